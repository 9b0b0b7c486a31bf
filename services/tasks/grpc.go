package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	apitask "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/services"
)

// lookup returns the request's task; errors are already gRPC errors.
func (s *Service) lookup(ctx context.Context, id string) (*task, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	t, err := s.get(ns, id)
	return t, services.ToGRPC(err)
}

var statuses = map[runtime.State]apitask.Status{
	runtime.Created: apitask.Status_CREATED, runtime.Running: apitask.Status_RUNNING,
	runtime.Paused: apitask.Status_PAUSED, runtime.Stopped: apitask.Status_STOPPED,
}

func (r record) process() *apitask.Process {
	p := &apitask.Process{ContainerID: r.ID, ID: r.ID, Pid: r.Pid, Status: statuses[r.State],
		Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal, ExitStatus: r.ExitStatus}
	if !r.ExitedAt.IsZero() {
		p.ExitedAt = timestamppb.New(r.ExitedAt)
	}
	return p
}

// Create implements the tasks API.
func (s *Service) Create(ctx context.Context, r *tasksapi.CreateTaskRequest) (*tasksapi.CreateTaskResponse, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	t, err := s.create(ctx, ns, r, nil)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	// A task a client creates starts its restart policy afresh.
	_ = s.editLabels(ns, r.ContainerID, func(l map[string]string) bool {
		_, stopped := l[api.LabelStoppedByUser]
		_, counted := l[api.LabelRestartCount]
		delete(l, api.LabelStoppedByUser)
		delete(l, api.LabelRestartCount)
		return stopped || counted
	})
	return &tasksapi.CreateTaskResponse{ContainerID: r.ContainerID, Pid: t.snapshot().Pid}, nil
}

// Start implements the tasks API.
func (s *Service) Start(ctx context.Context, r *tasksapi.StartRequest) (*tasksapi.StartResponse, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	if r.ExecID != "" {
		pid, err := s.startExec(ctx, t, r.ExecID)
		return &tasksapi.StartResponse{Pid: pid}, services.ToGRPC(err)
	}
	if err := s.start(ctx, t); err != nil {
		return nil, services.ToGRPC(err)
	}
	return &tasksapi.StartResponse{Pid: t.snapshot().Pid}, nil
}

// Delete implements the tasks API.
func (s *Service) Delete(ctx context.Context, r *tasksapi.DeleteTaskRequest) (*tasksapi.DeleteResponse, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	rec, err := s.delete(ctx, t)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &tasksapi.DeleteResponse{ID: rec.ID, Pid: rec.Pid, ExitStatus: rec.ExitStatus, ExitedAt: timestamppb.New(rec.ExitedAt)}, nil
}

// DeleteProcess implements the tasks API for an exited (or never started) exec.
func (s *Service) DeleteProcess(ctx context.Context, r *tasksapi.DeleteProcessRequest) (*tasksapi.DeleteResponse, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	rec, err := s.deleteExec(ctx, t, r.ExecID)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &tasksapi.DeleteResponse{ID: r.ExecID, Pid: rec.Pid, ExitStatus: rec.ExitStatus, ExitedAt: timestamppb.New(rec.ExitedAt)}, nil
}

// Get implements the tasks API.
func (s *Service) Get(ctx context.Context, r *tasksapi.GetRequest) (*tasksapi.GetResponse, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	if r.ExecID != "" {
		p, err := t.exec(r.ExecID)
		if err != nil {
			return nil, services.ToGRPC(err)
		}
		proc := p.snapshot().process()
		proc.ContainerID, proc.ID = r.ContainerID, r.ExecID
		return &tasksapi.GetResponse{Process: proc}, nil
	}
	return &tasksapi.GetResponse{Process: t.snapshot().process()}, nil
}

// List implements the tasks API.
func (s *Service) List(ctx context.Context, r *tasksapi.ListTasksRequest) (*tasksapi.ListTasksResponse, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	resp := &tasksapi.ListTasksResponse{}
	for _, t := range s.list(ns) {
		resp.Tasks = append(resp.Tasks, t.snapshot().process())
	}
	return resp, nil
}

// Kill implements the tasks API.
func (s *Service) Kill(ctx context.Context, r *tasksapi.KillRequest) (*emptypb.Empty, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, services.ToGRPC(s.kill(ctx, t, runtime.KillOpts{Signal: r.Signal, All: r.All, ExecID: r.ExecID}))
}

// Checkpoint implements the tasks API. No runtime family checkpoints yet, so it refuses, naming the
// task's runtime.
func (s *Service) Checkpoint(ctx context.Context, r *tasksapi.CheckpointTaskRequest) (*tasksapi.CheckpointTaskResponse, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	return nil, services.ToGRPC(fmt.Errorf("failed to checkpoint task %s: runtime %s cannot checkpoint: %w", r.ContainerID, t.rt.Runtime.Name, errdefs.ErrNotImplemented))
}

// Exec implements the tasks API through the family's exec operation.
func (s *Service) Exec(ctx context.Context, r *tasksapi.ExecProcessRequest) (*emptypb.Empty, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, services.ToGRPC(s.exec(ctx, t, r))
}

// ResizePty implements the tasks API.
func (s *Service) ResizePty(ctx context.Context, r *tasksapi.ResizePtyRequest) (*emptypb.Empty, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	err = t.ops.Resize(ctx, t.rt, runtime.ResizeOpts{ExecID: r.ExecID, Width: r.Width, Height: r.Height})
	return &emptypb.Empty{}, services.ToGRPC(err)
}

// CloseIO implements the tasks API.
func (s *Service) CloseIO(ctx context.Context, r *tasksapi.CloseIORequest) (*emptypb.Empty, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil || !r.Stdin {
		return &emptypb.Empty{}, err
	}
	return &emptypb.Empty{}, services.ToGRPC(t.ops.CloseIO(ctx, t.rt, r.ExecID))
}

// Pause implements the tasks API.
func (s *Service) Pause(ctx context.Context, r *tasksapi.PauseTaskRequest) (*emptypb.Empty, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, services.ToGRPC(s.pause(ctx, t, true))
}

// Resume implements the tasks API.
func (s *Service) Resume(ctx context.Context, r *tasksapi.ResumeTaskRequest) (*emptypb.Empty, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, services.ToGRPC(s.pause(ctx, t, false))
}

// ListPids implements the tasks API.
func (s *Service) ListPids(ctx context.Context, r *tasksapi.ListPidsRequest) (*tasksapi.ListPidsResponse, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	ps, err := t.ops.Pids(ctx, t.rt)
	if err != nil {
		return nil, services.ToGRPC(fmt.Errorf("failed to list pids of task %s: %w", r.ContainerID, err))
	}
	resp := &tasksapi.ListPidsResponse{}
	for _, p := range ps {
		resp.Processes = append(resp.Processes, &apitask.ProcessInfo{Pid: p.Pid})
	}
	return resp, nil
}

// Update implements the tasks API: Resources carries OCI LinuxResources as JSON.
func (s *Service) Update(ctx context.Context, r *tasksapi.UpdateTaskRequest) (*emptypb.Empty, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	if r.Annotations[keeper.AnnotationReopenLog] != "" {
		if err := t.ops.Update(ctx, t.rt, nil, map[string]string{keeper.AnnotationReopenLog: "true"}); err != nil {
			return nil, services.ToGRPC(fmt.Errorf("failed to reopen the log of task %s: %w", r.ContainerID, err))
		}
		return &emptypb.Empty{}, nil
	}
	if rt := t.rt.Runtime; rt.Name == "runsc" || filepath.Base(rt.Path) == "runsc" {
		return nil, services.ToGRPC(fmt.Errorf("runtime %s cannot update resources: %w", rt.Name, errdefs.ErrNotImplemented))
	}
	var res specs.LinuxResources
	if err := json.Unmarshal(r.Resources.GetValue(), &res); err != nil {
		return nil, services.ToGRPC(fmt.Errorf("resources are not OCI LinuxResources: %v: %w", err, errdefs.ErrInvalidArgument))
	}
	if err := t.ops.Update(ctx, t.rt, &res, nil); err != nil {
		return nil, services.ToGRPC(fmt.Errorf("failed to update task %s: %w", r.ContainerID, err))
	}
	return &emptypb.Empty{}, nil
}

// Wait implements the tasks API: it blocks until the task exits.
func (s *Service) Wait(ctx context.Context, r *tasksapi.WaitRequest) (*tasksapi.WaitResponse, error) {
	t, err := s.lookup(ctx, r.ContainerID)
	if err != nil {
		return nil, err
	}
	exited, snapshot := t.exited, t.snapshot
	if r.ExecID == "" { // an auto-remove waits for the clients waiting for the init
		t.waiters.Add(1)
		defer t.waiters.Add(-1)
	} else {
		p, err := t.exec(r.ExecID)
		if err != nil {
			return nil, services.ToGRPC(err)
		}
		exited, snapshot = p.exited, p.snapshot
	}
	select {
	case <-ctx.Done():
		return nil, services.ToGRPC(ctx.Err())
	case <-exited:
	}
	rec := snapshot()
	return &tasksapi.WaitResponse{ExitStatus: rec.ExitStatus, ExitedAt: timestamppb.New(rec.ExitedAt)}, nil
}
