package commands

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/corral-dev/corral/api"
)

// fakeTask is a task that dies of the signals in dies, 128+signal, and records the calls it gets.
type fakeTask struct {
	tasksapi.UnimplementedTasksServer
	dies        map[uint32]bool
	status      tasktypes.Status
	unavailable int // Wait answers Unavailable this many times first
	labels      map[string]string
	deleteFails int // Containers.Delete answers FailedPrecondition this many times first

	mu     sync.Mutex
	calls  []string
	exit   uint32
	exited chan struct{}
}

func (f *fakeTask) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeTask) Get(context.Context, *tasksapi.GetRequest) (*tasksapi.GetResponse, error) {
	if f.status == tasktypes.Status_UNKNOWN {
		return nil, errgrpc.ToGRPC(errdefs.ErrNotFound)
	}
	return &tasksapi.GetResponse{Process: &tasktypes.Process{Status: f.status}}, nil
}

func (f *fakeTask) Kill(_ context.Context, r *tasksapi.KillRequest) (*emptypb.Empty, error) {
	f.record("kill " + map[uint32]string{9: "KILL", 15: "TERM"}[r.Signal])
	if f.dies[r.Signal] {
		f.mu.Lock()
		f.exit = 128 + r.Signal
		f.mu.Unlock()
		close(f.exited)
	}
	return &emptypb.Empty{}, nil
}

func (f *fakeTask) Resume(context.Context, *tasksapi.ResumeTaskRequest) (*emptypb.Empty, error) {
	f.record("resume")
	return &emptypb.Empty{}, nil
}

func (f *fakeTask) Wait(ctx context.Context, _ *tasksapi.WaitRequest) (*tasksapi.WaitResponse, error) {
	f.mu.Lock()
	if f.unavailable > 0 {
		f.unavailable--
		f.mu.Unlock()
		return nil, errgrpc.ToGRPC(errdefs.ErrUnavailable)
	}
	f.mu.Unlock()
	select {
	case <-f.exited:
		f.mu.Lock()
		defer f.mu.Unlock()
		return &tasksapi.WaitResponse{ExitStatus: f.exit}, nil
	case <-ctx.Done():
		return nil, errgrpc.ToGRPC(ctx.Err())
	}
}

// fakeContainers records container deletions in the calls of its task.
type fakeContainers struct {
	containersapi.UnimplementedContainersServer
	task *fakeTask
}

func (f fakeContainers) Delete(context.Context, *containersapi.DeleteContainerRequest) (*emptypb.Empty, error) {
	f.task.record("delete container")
	f.task.mu.Lock()
	defer f.task.mu.Unlock()
	if f.task.deleteFails > 0 {
		f.task.deleteFails--
		return nil, errgrpc.ToGRPC(errdefs.ErrFailedPrecondition)
	}
	return &emptypb.Empty{}, nil
}

func (f fakeContainers) Get(_ context.Context, r *containersapi.GetContainerRequest) (*containersapi.GetContainerResponse, error) {
	return &containersapi.GetContainerResponse{Container: &containersapi.Container{ID: r.ID, Labels: f.task.labels}}, nil
}

func (f fakeContainers) Update(_ context.Context, r *containersapi.UpdateContainerRequest) (*containersapi.UpdateContainerResponse, error) {
	f.task.record(fmt.Sprintf("update %v %v", r.UpdateMask.GetPaths(), r.Container.Labels))
	return &containersapi.UpdateContainerResponse{Container: r.Container}, nil
}

// serve serves f on a socket and returns a client of it.
func (f *fakeTask) serve(t *testing.T) *Client {
	t.Helper()
	f.exited = make(chan struct{})
	sock := filepath.Join(t.TempDir(), "corrald.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	tasksapi.RegisterTasksServer(srv, f)
	containersapi.RegisterContainersServer(srv, fakeContainers{task: f})
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	t.Setenv("CORRAL_ADDRESS", sock)
	c, err := NewClient(&cobra.Command{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestStop(t *testing.T) {
	for _, tc := range []struct {
		name       string
		labels     map[string]string
		dies       map[uint32]bool
		wantStatus uint32
		wantCalls  []string
	}{
		{name: "TERM", dies: map[uint32]bool{15: true}, wantStatus: 143, wantCalls: []string{"kill TERM"}},
		{name: "TERM ignored", dies: map[uint32]bool{9: true}, wantStatus: 137, wantCalls: []string{"kill TERM", "kill KILL"}},
		{name: "restart policy", labels: map[string]string{api.LabelRestart: "always"}, dies: map[uint32]bool{15: true}, wantStatus: 143,
			wantCalls: []string{markStopped, "kill TERM"}},
		{name: "restart policy no", labels: map[string]string{api.LabelRestart: "no"}, dies: map[uint32]bool{15: true}, wantStatus: 143,
			wantCalls: []string{"kill TERM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTask{dies: tc.dies, status: tasktypes.Status_RUNNING, labels: tc.labels}
			c := f.serve(t)
			status, err := c.Stop(context.Background(), "c1", 200*time.Millisecond)
			if err != nil || status != tc.wantStatus || !reflect.DeepEqual(f.calls, tc.wantCalls) {
				t.Errorf("Stop = %d, %v, calls %q; want %d, calls %q", status, err, f.calls, tc.wantStatus, tc.wantCalls)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	for _, tc := range []struct {
		name        string
		status      tasktypes.Status
		force       bool
		labels      map[string]string
		deleteFails int
		wantCalls   []string
	}{
		{name: "no task", force: true, wantCalls: []string{"delete container"}},
		{name: "stopped", status: tasktypes.Status_STOPPED, force: true, wantCalls: []string{"delete container"}},
		{name: "running", status: tasktypes.Status_RUNNING, wantCalls: []string{"delete container"}},
		{name: "running, forced", status: tasktypes.Status_RUNNING, force: true, wantCalls: []string{"kill KILL", "delete container"}},
		{name: "paused, forced", status: tasktypes.Status_PAUSED, force: true, wantCalls: []string{"kill KILL", "resume", "delete container"}},
		{name: "restarted meanwhile, forced", status: tasktypes.Status_STOPPED, force: true, labels: map[string]string{api.LabelRestart: "always"},
			deleteFails: 1, wantCalls: []string{markStopped, "delete container", "delete container"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTask{dies: map[uint32]bool{9: true}, status: tc.status, labels: tc.labels, deleteFails: tc.deleteFails}
			c := f.serve(t)
			if err := c.Remove(context.Background(), "c1", tc.force); err != nil || !reflect.DeepEqual(f.calls, tc.wantCalls) {
				t.Errorf("Remove = %v, calls %q; want calls %q", err, f.calls, tc.wantCalls)
			}
		})
	}
}

var markStopped = fmt.Sprintf("update [labels.%s] map[%s:true]", api.LabelStoppedByUser, api.LabelStoppedByUser)

func TestWaitRetriesUnavailable(t *testing.T) {
	f := &fakeTask{dies: map[uint32]bool{15: true}, unavailable: 2}
	c := f.serve(t)
	close(f.exited)
	if status, err := c.Wait(context.Background(), "c1", ""); err != nil || status != 0 {
		t.Fatalf("Wait = %d, %v; want 0 after two Unavailable answers", status, err)
	}
}
