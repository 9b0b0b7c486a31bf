package shim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
	"github.com/containerd/containerd/api/events"
	task "github.com/containerd/containerd/api/runtime/task/v2"
	apitask "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/api/keeper"
)

// State reports the init's or an exec's state.
func (s *Service) State(ctx context.Context, r *task.StateRequest) (*task.StateResponse, error) {
	k, p, err := s.process(r.ExecID)
	if err != nil {
		return nil, err
	}
	var st *task.StateResponse
	if r.ExecID == "" {
		st = k.status()
		st.Stdin, st.Stdout, st.Stderr, st.Terminal = k.c.Stdin, k.c.Stdout, k.c.Stderr, k.c.Terminal
	} else {
		k.procs.mu.Lock()
		st = &task.StateResponse{Pid: uint32(p.pid), Status: apitask.Status_RUNNING, Stdin: p.stdin, Stdout: p.stdout, Stderr: p.stderr}
		if !p.started {
			st.Status = apitask.Status_CREATED
		}
		k.procs.mu.Unlock()
		select {
		case <-p.done:
			st.Status, st.ExitStatus = apitask.Status_STOPPED, p.exit.Status
		default:
		}
	}
	st.ID, st.ExecID, st.Bundle = r.ID, r.ExecID, k.c.Bundle
	select {
	case <-p.done:
		st.ExitedAt = timestamppb.New(p.exit.ExitedAt)
	default:
	}
	return st, nil
}

// Wait returns the exit of the init or an exec once it is recorded.
func (s *Service) Wait(ctx context.Context, r *task.WaitRequest) (*task.WaitResponse, error) {
	_, p, err := s.process(r.ExecID)
	if err != nil {
		return nil, err
	}
	select {
	case <-p.done:
		return &task.WaitResponse{ExitStatus: p.exit.Status, ExitedAt: timestamppb.New(p.exit.ExitedAt)}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Pids lists the container's processes.
func (s *Service) Pids(ctx context.Context, r *task.PidsRequest) (*task.PidsResponse, error) {
	k, err := s.get()
	if err != nil {
		return nil, err
	}
	pids, err := k.drv.pids(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to list processes of container %s: %w", r.ID, err)
	}
	resp := &task.PidsResponse{}
	for _, p := range pids {
		resp.Processes = append(resp.Processes, &apitask.ProcessInfo{Pid: uint32(p)})
	}
	return resp, nil
}

// Pause freezes the container.
func (s *Service) Pause(ctx context.Context, r *task.PauseRequest) (*emptypb.Empty, error) {
	return s.freeze(ctx, r.ID, true)
}

// Resume thaws the container.
func (s *Service) Resume(ctx context.Context, r *task.ResumeRequest) (*emptypb.Empty, error) {
	return s.freeze(ctx, r.ID, false)
}

func (s *Service) freeze(ctx context.Context, id string, pause bool) (*emptypb.Empty, error) {
	k, err := s.get()
	if err != nil {
		return nil, err
	}
	if st := k.status().Status; st == apitask.Status_STOPPED || st == apitask.Status_CREATED {
		return nil, fmt.Errorf("container %s is not running: %w", id, errdefs.ErrFailedPrecondition)
	}
	if pause {
		err = k.drv.pause(ctx)
	} else {
		err = k.drv.resume(ctx)
	}
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.paused = pause
	k.mu.Unlock()
	if pause {
		s.pub.publish(ctx, "/tasks/paused", &events.TaskPaused{ContainerID: id})
	} else {
		s.pub.publish(ctx, "/tasks/resumed", &events.TaskResumed{ContainerID: id})
	}
	return &emptypb.Empty{}, nil
}

// Update changes the container's resources.
func (s *Service) Update(ctx context.Context, r *task.UpdateTaskRequest) (*emptypb.Empty, error) {
	k, err := s.get()
	if err != nil {
		return nil, err
	}
	if r.Annotations[keeper.AnnotationReopenLog] != "" {
		return &emptypb.Empty{}, k.reopenLog()
	}
	var res specs.LinuxResources
	if err := json.Unmarshal(r.Resources.GetValue(), &res); err != nil {
		return nil, fmt.Errorf("resources are not valid OCI Linux resources: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if err := k.drv.update(ctx, &res); err != nil {
		return nil, fmt.Errorf("failed to update container %s: %w", r.ID, err)
	}
	return &emptypb.Empty{}, nil
}

// Stats returns the container's resource usage, with the OOM kills its watch counted.
func (s *Service) Stats(ctx context.Context, r *task.StatsRequest) (*task.StatsResponse, error) {
	k, err := s.get()
	if err != nil {
		return nil, err
	}
	m, err := k.drv.stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to read stats of container %s: %w", r.ID, err)
	}
	m.MemoryOomControl = &stats.MemoryOomControl{OomKill: k.oomKills()}
	a, err := metricsAny(m)
	if err != nil {
		return nil, fmt.Errorf("failed to encode stats of container %s: %w", r.ID, err)
	}
	return &task.StatsResponse{Stats: a}, nil
}

// ResizePty resizes the terminal of the init or an exec.
func (s *Service) ResizePty(ctx context.Context, r *task.ResizePtyRequest) (*emptypb.Empty, error) {
	k, p, err := s.process(r.ExecID)
	if err != nil {
		return nil, err
	}
	k.procs.mu.Lock()
	sio := p.io
	k.procs.mu.Unlock()
	if sio == nil {
		return nil, fmt.Errorf("process %q has not started: %w", r.ExecID, errdefs.ErrFailedPrecondition)
	}
	select {
	case <-p.done: // a terminal that is gone has no size to change
		return &emptypb.Empty{}, nil
	default:
	}
	if err := sio.resize(r.Width, r.Height); err != nil {
		return nil, fmt.Errorf("failed to resize the terminal of %s: %w", r.ID, err)
	}
	return &emptypb.Empty{}, nil
}

// CloseIO closes the stdin of the init or an exec once what the client wrote is delivered.
func (s *Service) CloseIO(ctx context.Context, r *task.CloseIORequest) (*emptypb.Empty, error) {
	_, p, err := s.process(r.ExecID)
	if err != nil {
		return nil, err
	}
	if r.Stdin && p.io != nil {
		p.io.closeStdin()
	}
	return &emptypb.Empty{}, nil
}

// Checkpoint is not supported.
func (s *Service) Checkpoint(ctx context.Context, r *task.CheckpointTaskRequest) (*emptypb.Empty, error) {
	return nil, fmt.Errorf("checkpoint of container %s: %w", r.ID, errdefs.ErrNotImplemented)
}

// Connect reports the keeper's and the init's pids; it is the liveness probe.
func (s *Service) Connect(ctx context.Context, r *task.ConnectRequest) (*task.ConnectResponse, error) {
	resp := &task.ConnectResponse{ShimPid: uint32(os.Getpid())}
	if k, err := s.get(); err == nil {
		resp.TaskPid = uint32(k.status().Pid)
	}
	return resp, nil
}

// Shutdown lets the keeper exit once its container is deleted, or was never created.
func (s *Service) Shutdown(ctx context.Context, r *task.ShutdownRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	done := s.k == nil || s.deleted
	s.mu.Unlock()
	if done {
		s.once.Do(func() { close(s.shutdown) })
	}
	return &emptypb.Empty{}, nil
}
