package v2

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/containerd/containerd/api/events"
	eventsttrpc "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/runtime"
)

func TestNameOf(t *testing.T) {
	for bin, want := range map[string]string{
		"containerd-shim-runc-v2":  "io.containerd.runc.v2",
		"containerd-shim-runsc-v1": "io.containerd.runsc.v1",
		"containerd-shim-kata-v2":  "io.containerd.kata.v2",
		"containerd-shim":          "",
		"containerd-shim-runc-":    "",
		"containerd-shim--v2":      "",
		"runc":                     "",
	} {
		got, ok := NameOf(bin)
		if got != want || ok != (want != "") {
			t.Errorf("NameOf(%q) = %q, %v; want %q", bin, got, ok, want)
		}
		if ok && BinaryName(got) != bin {
			t.Errorf("BinaryName(NameOf(%q)) = %q", bin, BinaryName(got))
		}
	}
}

func TestTimestamp(t *testing.T) {
	if !timestamp(&timestamppb.Timestamp{Seconds: -62135596800}).IsZero() || !timestamp(nil).IsZero() {
		t.Error("1.6's year-1 timestamp must read as zero")
	}
	now := time.Now()
	if got := timestamp(timestamppb.New(now)); !got.Equal(now) {
		t.Errorf("timestamp = %v, want %v", got, now)
	}
}

func envelope(t *testing.T, topic string, ev proto.Message) *eventsttrpc.ForwardRequest {
	b, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return &eventsttrpc.ForwardRequest{Envelope: &types.Envelope{Namespace: "ns", Topic: topic, Timestamp: timestamppb.Now(),
		Event: &anypb.Any{TypeUrl: string(proto.MessageName(ev)), Value: b}}}
}

// TestForward: a shim's events endpoint passes on the topics the tasks service does not publish
// itself, for its own task only; events about other tasks and exits are dropped, and nothing is kept.
func TestForward(t *testing.T) {
	var published []string
	r := New(Opts{EventsDir: t.TempDir(), Publish: func(_ context.Context, env *types.Envelope) {
		published = append(published, env.Namespace+" "+env.Topic)
	}})
	task := runtime.Task{Namespace: "ns", ID: "c1"}
	if err := r.listenEvents(task); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("unix", r.eventsPath(task))
	if err != nil {
		t.Fatal(err)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()
	ec := eventsttrpc.NewTTRPCEventsClient(client)
	other := envelope(t, "/tasks/oom", &events.TaskOOM{ContainerID: "c1"})
	other.Envelope.Namespace = "other"
	ctx := context.Background()
	for _, req := range []*eventsttrpc.ForwardRequest{
		envelope(t, "/tasks/exit", &events.TaskExit{ContainerID: "c1", ID: "c1", Pid: 7, ExitStatus: 3}),
		envelope(t, "/tasks/oom", &events.TaskOOM{ContainerID: "c1"}),
		envelope(t, "/tasks/oom", &events.TaskOOM{ContainerID: "c2"}),
		other,
		envelope(t, "/tasks/start", &events.TaskStart{ContainerID: "c1"}),
		{},
	} {
		if _, err := ec.Forward(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if len(published) != 1 || published[0] != "ns /tasks/oom" {
		t.Errorf("published %v, want only the task's own /tasks/oom", published)
	}
	r.forget(task)
	if _, err := os.Stat(r.eventsPath(task)); !os.IsNotExist(err) {
		t.Errorf("events socket left after forget: %v", err)
	}
}

func TestStdioCheck(t *testing.T) {
	for _, tc := range []struct {
		out, errPath string
		tty, ok      bool
	}{
		{"", "", false, true}, {"/o", "/e", false, true}, {"/o", "", true, true}, {"/o", "", false, false}, {"", "/e", false, false},
	} {
		if err := stdioCheck("", tc.out, tc.errPath, tc.tty); (err == nil) != tc.ok {
			t.Errorf("stdioCheck(%q, %q, %v) = %v", tc.out, tc.errPath, tc.tty, err)
		}
	}
}
