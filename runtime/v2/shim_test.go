package v2

import (
	"context"
	"testing"
	"time"

	"github.com/containerd/containerd/api/events"
	eventsttrpc "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/containerd/api/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
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

func TestForward(t *testing.T) {
	var published []string
	r := New(Opts{Publish: func(_ context.Context, env *types.Envelope) { published = append(published, env.Topic) }})
	ctx := context.Background()
	for _, req := range []*eventsttrpc.ForwardRequest{
		envelope(t, "/tasks/exit", &events.TaskExit{ContainerID: "c1", ID: "c1", Pid: 7, ExitStatus: 3}),
		envelope(t, "/tasks/exit", &events.TaskExit{ContainerID: "c1", ID: "e1", Pid: 8, ExitStatus: 4}),
		envelope(t, "/tasks/oom", &events.TaskOOM{ContainerID: "c1"}),
		envelope(t, "/tasks/start", &events.TaskStart{ContainerID: "c1"}),
		{},
	} {
		if _, err := r.Forward(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	for k, want := range map[string]uint32{"ns/c1/": 3, "ns/c1/e1": 4} {
		n := r.note(k)
		select {
		case <-n.done:
			if n.exit.Status != want {
				t.Errorf("%s: status %d, want %d", k, n.exit.Status, want)
			}
		default:
			t.Errorf("%s: exit not noted", k)
		}
	}
	// The tasks service publishes lifecycle topics itself; only the others pass through.
	if len(published) != 1 || published[0] != "/tasks/oom" {
		t.Errorf("published %v, want only /tasks/oom", published)
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
