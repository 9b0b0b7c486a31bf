package tasks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/config"
	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/services/events"
	rtservice "github.com/corral-dev/corral/services/runtime"
	"github.com/corral-dev/corral/services/store"
)

// fakeFamily stands in for a runtime family: exits are sent on exits by the test.
type fakeFamily struct {
	runtime.Unsupported
	mu        sync.Mutex
	createErr error
	exits     chan runtime.Exit
	deleted   []string
	starts    int
	state     runtime.State // what Status reports; running if empty
}

func (f *fakeFamily) Detect(name string) bool { return name == "runc" }
func (f *fakeFamily) Create(ctx context.Context, o runtime.CreateOpts) (uint32, error) {
	return 42, f.createErr
}
func (f *fakeFamily) Start(context.Context, runtime.Task, string) (uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts++
	return 42, nil
}
func (f *fakeFamily) Status(context.Context, runtime.Task) (runtime.Status, error) {
	if f.state == "" {
		return runtime.Status{Pid: 42, State: runtime.Running}, nil
	}
	return runtime.Status{Pid: 42, State: f.state}, nil
}
func (f *fakeFamily) Kill(context.Context, runtime.Task, runtime.KillOpts) error {
	f.exits <- runtime.Exit{Pid: 42, Status: 137, Timestamp: time.Now()}
	return nil
}
func (f *fakeFamily) Wait(ctx context.Context, t runtime.Task, _ string) (runtime.Exit, error) {
	select {
	case e := <-f.exits:
		return e, nil
	case <-ctx.Done():
		return runtime.Exit{}, ctx.Err()
	}
}
func (f *fakeFamily) Delete(_ context.Context, t runtime.Task) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, t.ID)
	return nil
}

func newTestService(t *testing.T, f *fakeFamily) (*Service, *store.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(st, newResolver(t, f), events.NewExchange(), Dirs{Bundles: filepath.Join(dir, "bundles"), Logs: filepath.Join(dir, "logs")}, keeper.DefaultLog(), time.Second), st
}

// newResolver resolves "runc" to f and a stand-in binary.
func newResolver(t *testing.T, f *fakeFamily) *rtservice.Resolver {
	bin := filepath.Join(t.TempDir(), "runc")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Runtimes["runc"] = config.Runtime{Path: bin}
	return rtservice.NewResolver(cfg, runtime.NewRegistry(runtime.Family{Name: "fake", Ops: f}))
}

func putContainer(t *testing.T, st *store.Store, id, spec string) {
	t.Helper()
	c := &containersapi.Container{ID: id, Runtime: &containersapi.Container_Runtime{Name: "runc"},
		Spec: &anypb.Any{TypeUrl: api.SpecTypeURL, Value: []byte(spec)}}
	b, _ := proto.Marshal(c)
	if err := st.Put("default", store.Containers, id, b, true); err != nil {
		t.Fatal(err)
	}
}

const goodSpec = `{"process":{"args":["true"]},"root":{"path":"/"}}`

func TestLifecycle(t *testing.T) {
	f := &fakeFamily{exits: make(chan runtime.Exit, 1)}
	s, st := newTestService(t, f)
	ctx := context.Background()
	putContainer(t, st, "c1", goodSpec)
	tk, err := s.create(ctx, "default", &tasksapi.CreateTaskRequest{ContainerID: "c1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.create(ctx, "default", &tasksapi.CreateTaskRequest{ContainerID: "c1"}, nil); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	b, err := os.ReadFile(filepath.Join(tk.rt.Bundle, "config.json"))
	if err != nil || !strings.Contains(string(b), DefaultPath) {
		t.Fatalf("bundle config.json lacks the default PATH: %s %v", b, err)
	}
	if err := s.start(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if _, err := s.delete(ctx, tk); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("delete of a running task: %v, want FailedPrecondition", err)
	}
	if err := s.kill(ctx, tk, runtime.KillOpts{Signal: 9}); err != nil {
		t.Fatal(err)
	}
	<-tk.exited
	if rec := tk.snapshot(); rec.State != runtime.Stopped || rec.ExitStatus != 137 {
		t.Fatalf("after exit: %+v", rec)
	}
	if err := s.kill(ctx, tk, runtime.KillOpts{Signal: 9}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("kill of a stopped task: %v, want NotFound", err)
	}
	rec, err := s.delete(ctx, tk)
	if err != nil || rec.ExitStatus != 137 {
		t.Fatalf("delete: %+v %v", rec, err)
	}
	if _, err := os.Stat(tk.rt.Bundle); !os.IsNotExist(err) {
		t.Fatalf("bundle left behind: %v", err)
	}
	if _, err := st.Get("default", store.Tasks, "c1"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("task record left behind: %v", err)
	}
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		createErr  error
		want       error
	}{
		{"runtime error", goodSpec, errors.New("runc: boom"), nil},
		{"no root path", `{"process":{"args":["true"]}}`, nil, errdefs.ErrInvalidArgument},
		{"no args", `{"process":{},"root":{"path":"/"}}`, nil, errdefs.ErrInvalidArgument},
		{"not json", `{`, nil, errdefs.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeFamily{createErr: tc.createErr, exits: make(chan runtime.Exit, 1)}
			s, st := newTestService(t, f)
			putContainer(t, st, "c1", tc.spec)
			_, err := s.create(context.Background(), "default", &tasksapi.CreateTaskRequest{ContainerID: "c1"}, nil)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("create: %v, want %v", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(s.dirs.Bundles, "default", "c1")); !os.IsNotExist(err) {
				t.Errorf("bundle left behind: %v", err)
			}
			if _, err := s.get("default", "c1"); !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("task left behind: %v", err)
			}
		})
	}
}

// An exit that arrives before Start records Running must win: the task stays stopped.
func TestExitBeforeStartReturns(t *testing.T) {
	f := &fakeFamily{exits: make(chan runtime.Exit, 1)}
	s, st := newTestService(t, f)
	putContainer(t, st, "c1", goodSpec)
	tk, err := s.create(context.Background(), "default", &tasksapi.CreateTaskRequest{ContainerID: "c1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.exits <- runtime.Exit{Pid: 42, Status: 0, Timestamp: time.Now()}
	<-tk.exited
	s.setState(tk, runtime.Running)
	if st := tk.snapshot().State; st != runtime.Stopped {
		t.Fatalf("state %s after exit, want stopped", st)
	}
}

func TestRestore(t *testing.T) {
	f := &fakeFamily{exits: make(chan runtime.Exit, 1)}
	s, st := newTestService(t, f)
	putContainer(t, st, "c1", goodSpec)
	if _, err := s.create(context.Background(), "default", &tasksapi.CreateTaskRequest{ContainerID: "c1"}, nil); err != nil {
		t.Fatal(err)
	}
	// A new service over the same store, as after a corrald restart; its family sees the exit.
	f2 := &fakeFamily{exits: make(chan runtime.Exit, 1), state: runtime.Created}
	s2 := New(st, newResolver(t, f2), events.NewExchange(), s.dirs, s.log, time.Second)
	if err := s2.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	tk, err := s2.get("default", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if rec := tk.snapshot(); rec.Pid != 42 || rec.State != runtime.Created {
		t.Fatalf("restored %+v", rec)
	}
	f2.exits <- runtime.Exit{Pid: 42, Status: 3, Timestamp: time.Now()}
	select {
	case <-tk.exited:
	case <-time.After(5 * time.Second):
		t.Fatal("restored task not watched")
	}
	if rec := tk.snapshot(); rec.ExitStatus != 3 {
		t.Fatalf("restored exit %+v", rec)
	}
}

// A task that exited while corrald was down is stopped, with its status, when Restore returns.
func TestRestoreAsksTheRuntime(t *testing.T) {
	f := &fakeFamily{exits: make(chan runtime.Exit, 1)}
	s, st := newTestService(t, f)
	putContainer(t, st, "c1", goodSpec)
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
	if err := s2.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	tk, err = s2.get("default", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if rec := tk.snapshot(); rec.State != runtime.Stopped || rec.ExitStatus != 7 {
		t.Fatalf("restored %+v, want stopped with 7", rec)
	}
}

func TestExecIDIsNotTheContainerID(t *testing.T) {
	f := &fakeFamily{exits: make(chan runtime.Exit, 1)}
	s, st := newTestService(t, f)
	putContainer(t, st, "c1", goodSpec)
	tk, err := s.create(context.Background(), "default", &tasksapi.CreateTaskRequest{ContainerID: "c1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	proc := &anypb.Any{TypeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Process", Value: []byte(`{"args":["true"]}`)}
	err = s.exec(context.Background(), tk, &tasksapi.ExecProcessRequest{ContainerID: "c1", ExecID: "c1", Spec: proc})
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "container's own id") {
		t.Fatalf("exec with the container's id: %v, want InvalidArgument", err)
	}
}
