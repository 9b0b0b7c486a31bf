package v2

import (
	"context"
	"fmt"
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
	e, err := r.listenEvents(task, r.eventsPath(task))
	if err != nil {
		t.Fatal(err)
	}
	r.bind(task, pipeShim(t, "unix:///s1", e))
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

// pipeShim is a shim at address whose connection goes nowhere, publishing at e.
func pipeShim(t *testing.T, address string, e *endpoint) *shim {
	a, b := net.Pipe()
	t.Cleanup(func() { b.Close() })
	s := &shim{closed: make(chan struct{}), address: address, events: e, tasks: map[string]bool{}}
	s.client = ttrpc.NewClient(a, ttrpc.WithOnClose(func() { close(s.closed) }))
	return s
}

// TestGroupedShim: a task whose shim's start answers the address of a connected shim shares it and
// its events endpoint; the endpoint takes the events of every task the shim serves and no other's,
// and the connection, the endpoint and its socket go with the shim's last task.
func TestGroupedShim(t *testing.T) {
	var published []string
	r := New(Opts{EventsDir: t.TempDir(), Publish: func(_ context.Context, env *types.Envelope) {
		var oom events.TaskOOM
		_ = proto.Unmarshal(env.Event.Value, &oom)
		published = append(published, oom.ContainerID)
	}})
	start := func(id, address string) (runtime.Task, *shim) {
		task := runtime.Task{Namespace: "ns", ID: id}
		e, err := r.listenEvents(task, r.eventsPath(task))
		if err != nil {
			t.Fatal(err)
		}
		return task, r.bind(task, pipeShim(t, address, e))
	}
	c1, s1 := start("c1", "unix:///group")
	c2, s2 := start("c2", "unix:///group")
	_, s3 := start("c3", "unix:///other")
	if s2 != s1 || s3 == s1 || len(r.endpoints) != 2 {
		t.Fatalf("c2 does not share c1's shim, or c3 does: %p %p %p, %d endpoints", s1, s2, s3, len(r.endpoints))
	}
	if _, err := os.Stat(r.eventsPath(c2)); !os.IsNotExist(err) {
		t.Errorf("the events endpoint c2's start listened on is left: %v", err)
	}
	conn, err := net.Dial("unix", s1.events.path)
	if err != nil {
		t.Fatal(err)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()
	ec := eventsttrpc.NewTTRPCEventsClient(client)
	send := func(ids ...string) {
		for _, id := range ids {
			if _, err := ec.Forward(context.Background(), envelope(t, "/tasks/oom", &events.TaskOOM{ContainerID: id})); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, step := range []struct {
		forget     runtime.Task
		shared     bool
		send, want []string
	}{
		{send: []string{"c1", "c2", "c3"}, want: []string{"c1", "c2"}},
		{forget: c1, shared: true, send: []string{"c1", "c2"}, want: []string{"c2"}},
		{forget: c2},
	} {
		published = nil
		if step.forget.ID != "" {
			if shared := r.forget(step.forget); shared != step.shared {
				t.Errorf("forget %s: shared %v, want %v", step.forget.ID, shared, step.shared)
			}
		}
		send(step.send...)
		if fmt.Sprint(published) != fmt.Sprint(step.want) {
			t.Errorf("after forgetting %q: published %v, want %v", step.forget.ID, published, step.want)
		}
	}
	select {
	case <-s1.closed:
	case <-time.After(time.Second):
		t.Error("the group's shim is connected after its last task")
	}
	if !s3.alive() {
		t.Error("the other shim's connection was closed")
	}
	if _, err := os.Stat(s1.events.path); !os.IsNotExist(err) {
		t.Errorf("events socket left after the group's last task: %v", err)
	}
}
