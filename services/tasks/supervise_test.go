package tasks

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/config"
	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/services/events"
	"github.com/corral-dev/corral/services/store"
)

// putLabelled stores container id with labels.
func putLabelled(t *testing.T, st *store.Store, id string, labels map[string]string) {
	t.Helper()
	c := &containersapi.Container{ID: id, Runtime: &containersapi.Container_Runtime{Name: "runc"}, Labels: labels,
		Spec: &anypb.Any{TypeUrl: api.SpecTypeURL, Value: []byte(goodSpec)}}
	b, _ := proto.Marshal(c)
	if err := st.Put("default", store.Containers, id, b, true); err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 5s", what)
		}
	}
}

var fastRestart = Supervision{Restart: config.Restart{Backoff: config.Duration{Duration: time.Millisecond},
	MaxBackoff: config.Duration{Duration: 10 * time.Millisecond}, ResetAfter: config.Duration{Duration: time.Hour}}}

func (f *fakeFamily) startCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts
}

// on-failure:2 restarts a failing task twice, in place, counting in the container's labels.
func TestRespawnOnFailure(t *testing.T) {
	f := &fakeFamily{exits: make(chan runtime.Exit, 1)}
	s, st := newTestService(t, f)
	s.Supervision = fastRestart
	putLabelled(t, st, "c1", map[string]string{api.LabelRestart: "on-failure:2"})
	ctx := context.Background()
	tk, err := s.create(ctx, "default", &tasksapi.CreateTaskRequest{ContainerID: "c1", Stdout: "/out", Stderr: "/err"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.start(ctx, tk); err != nil {
		t.Fatal(err)
	}
	for want := 2; want <= 3; want++ {
		f.exits <- runtime.Exit{Status: 1, Timestamp: time.Now()}
		eventually(t, "restart", func() bool { return f.startCount() == want })
	}
	f.exits <- runtime.Exit{Status: 1, Timestamp: time.Now()}
	time.Sleep(100 * time.Millisecond)
	if n := f.startCount(); n != 3 {
		t.Fatalf("%d starts, want 3: the first and 2 restarts", n)
	}
	cur, err := s.get("default", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if rec := cur.snapshot(); rec.State != runtime.Stopped || rec.ExitStatus != 1 || rec.Stdout != "/out" || rec.Pid != 42 {
		t.Fatalf("last task %+v", rec)
	}
	c, err := s.container("default", "c1")
	if err != nil || c.Labels[api.LabelRestartCount] != "2" {
		t.Fatalf("labels %v, %v; want a count of 2", c.GetLabels(), err)
	}
	if len(f.deleted) != 2 {
		t.Fatalf("deleted %v, want the 2 tasks restarted", f.deleted)
	}
}

// "always" restarts a task that exited while corrald was down.
func TestRestoreRestarts(t *testing.T) {
	f := &fakeFamily{exits: make(chan runtime.Exit, 1)}
	s, st := newTestService(t, f)
	putLabelled(t, st, "c1", map[string]string{api.LabelRestart: "always"})
	tk, err := s.create(context.Background(), "default", &tasksapi.CreateTaskRequest{ContainerID: "c1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.start(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	f2 := &fakeFamily{exits: make(chan runtime.Exit, 1), state: runtime.Stopped}
	f2.exits <- runtime.Exit{Status: 7, Timestamp: time.Now()}
	s2 := New(st, newResolver(t, f2), events.NewExchange(), s.dirs, s.log, time.Second)
	s2.Supervision = fastRestart
	s2.Supervision.Restart.Backoff.Duration = 100 * time.Millisecond
	if err := s2.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "restart", func() bool { return f2.startCount() == 1 })
}

// An auto-remove waits for the clients waiting for the task.
func TestAutoRemove(t *testing.T) {
	f := &fakeFamily{exits: make(chan runtime.Exit, 1)}
	s, st := newTestService(t, f)
	var removed atomic.Bool
	s.Supervision = Supervision{AutoRemove: 10 * time.Millisecond, RemoveContainer: func(ctx context.Context, ns, id string) error {
		removed.Store(true)
		return s.DeleteStopped(ctx, ns, id)
	}}
	putLabelled(t, st, "c1", map[string]string{api.LabelAutoRemove: "true"})
	tk, err := s.create(context.Background(), "default", &tasksapi.CreateTaskRequest{ContainerID: "c1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.start(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	tk.waiters.Add(1)
	f.exits <- runtime.Exit{Status: 0, Timestamp: time.Now()}
	<-tk.exited
	time.Sleep(100 * time.Millisecond)
	if removed.Load() {
		t.Fatal("removed while a client waits")
	}
	tk.waiters.Add(-1)
	eventually(t, "removal", removed.Load)
	eventually(t, "task deletion", func() bool { _, err := s.get("default", "c1"); return err != nil })
}
