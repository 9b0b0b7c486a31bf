package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	eventsapi "github.com/containerd/containerd/api/services/events/v1"
)

func TestEvents(t *testing.T) {
	d := startDaemon(t, "")
	ctx, cancel := context.WithTimeout(nsCtx("default"), time.Minute)
	defer cancel()
	stream, err := eventsapi.NewEventsClient(d.grpcConn()).Subscribe(ctx, &eventsapi.SubscribeRequest{Filters: []string{`namespace==default`}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the subscription register before publishing
	d.corral("run", "--rm", "--runtime", "runc", "--rootfs", rootfs, "ev", "true").must(t)
	want := []string{"/containers/create", "/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete", "/containers/delete"}
	var got []string
	for len(got) < len(want) {
		env, err := stream.Recv()
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		if env.Namespace != "default" || !strings.HasPrefix(env.Event.TypeUrl, "containerd.events.") {
			t.Errorf("event %s: namespace %q, type %q", env.Topic, env.Namespace, env.Event.TypeUrl)
		}
		got = append(got, env.Topic)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("topics %v, want %v", got, want)
	}
}

func TestNamespacesIsolate(t *testing.T) {
	d := startDaemon(t, "")
	run := func(ns string, args ...string) result {
		return d.corral(append([]string{"--namespace", ns}, args...)...)
	}
	run("a", "run", "-d", "--runtime", "runc", "--rootfs", rootfs, "same", "sleep", "1000").must(t)
	if out := run("b", "containers", "ls").must(t); strings.Contains(out, "same") {
		t.Errorf("namespace b sees a's container:\n%s", out)
	}
	if r := run("b", "tasks", "kill", "same"); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("namespace b can signal a's task: exit %d %s", r.code, r.stderr)
	}
	// The same id is free in another namespace.
	run("b", "run", "--rm", "--runtime", "runc", "--rootfs", rootfs, "same", "true").must(t)
	if out := run("a", "tasks", "ls").must(t); !strings.Contains(out, "RUNNING") {
		t.Errorf("a's task disturbed:\n%s", out)
	}
	run("a", "tasks", "kill", "-s", "KILL", "same").must(t)
	if got := d.waitIn(t, "a", "same"); got != 137 {
		t.Errorf("exit status %d, want 137", got)
	}
	run("a", "containers", "rm", "same").must(t)
}
