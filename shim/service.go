package shim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/containerd/containerd/api/events"
	task "github.com/containerd/containerd/api/runtime/task/v2"
	apitask "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/api/keeper"
)

// Service serves containerd's task API for the keeper's one container.
type Service struct {
	ns, id string
	// defaults are the options of a Create that carries none of corral's (containerd's clients).
	defaults keeper.Options
	r        *reaper
	pub      *publisher
	// shutdown is closed when the keeper may exit.
	shutdown chan struct{}
	once     sync.Once

	mu      sync.Mutex
	k       *container
	deleted bool
}

var _ task.TTRPCTaskService = (*Service)(nil)

// get returns the container; errdefs.ErrNotFound before Create and after Delete.
func (s *Service) get() (*container, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.k == nil || s.deleted {
		return nil, fmt.Errorf("container %s: %w", s.id, errdefs.ErrNotFound)
	}
	return s.k, nil
}

// process returns the container and its process execID ("" is the init).
func (s *Service) process(execID string) (*container, *process, error) {
	k, err := s.get()
	if err != nil {
		return nil, nil, err
	}
	p, err := k.procs.get(execID)
	if err != nil {
		return nil, nil, err
	}
	return k, p, nil
}

// Create creates the container with the driver its options name.
func (s *Service) Create(ctx context.Context, r *task.CreateTaskRequest) (*task.CreateTaskResponse, error) {
	if r.Checkpoint != "" || r.ParentCheckpoint != "" {
		return nil, fmt.Errorf("failed to create container %s: restoring a checkpoint: %w", r.ID, errdefs.ErrNotImplemented)
	}
	o, ok, err := keeper.FromAny(r.Options)
	if err != nil {
		return nil, err
	}
	if !ok {
		o = s.defaults
	}
	c := &Config{Namespace: s.ns, ID: r.ID, Bundle: r.Bundle, Options: o.WithDefaults(),
		Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal, Rootfs: len(r.Rootfs) > 0}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.k != nil {
		return nil, fmt.Errorf("container %s: %w", r.ID, errdefs.ErrAlreadyExists)
	}
	ctx = log.WithLogger(ctx, log.G(ctx).WithField("id", r.ID).WithField("namespace", s.ns))
	if c.Rootfs {
		if err := mountRootfs(r.Bundle, r.Rootfs); err != nil {
			return nil, fmt.Errorf("failed to create container %s: %w", r.ID, err)
		}
	}
	k, pid, err := newContainer(ctx, r.Bundle, c, s.r, s.exited, s.oomKilled)
	if err != nil {
		if c.Rootfs {
			_ = unmountRootfs(r.Bundle)
		}
		return nil, fmt.Errorf("failed to create container %s: %w", r.ID, err)
	}
	s.k = k
	s.pub.publish(ctx, "/tasks/create", &events.TaskCreate{ContainerID: r.ID, Bundle: r.Bundle, Pid: uint32(pid),
		IO: &events.TaskIO{Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal}})
	return &task.CreateTaskResponse{Pid: uint32(pid)}, nil
}

// exited publishes a process's exit.
func (s *Service) exited(execID string, p *process) {
	id := execID
	if id == "" {
		id = s.id
	}
	s.pub.publish(context.Background(), "/tasks/exit", &events.TaskExit{ContainerID: s.id, ID: id, Pid: p.exit.Pid,
		ExitStatus: p.exit.Status, ExitedAt: timestamppb.New(p.exit.ExitedAt)})
}

// oomKilled publishes an OOM kill in the container, as containerd's shims do.
func (s *Service) oomKilled() {
	s.pub.publish(context.Background(), "/tasks/oom", &events.TaskOOM{ContainerID: s.id})
}

// Start starts the init, or a created exec.
func (s *Service) Start(ctx context.Context, r *task.StartRequest) (*task.StartResponse, error) {
	k, err := s.get()
	if err != nil {
		return nil, err
	}
	if r.ExecID != "" {
		pid, err := k.startExec(ctx, r.ExecID)
		if err != nil {
			return nil, fmt.Errorf("failed to start exec %s in container %s: %w", r.ExecID, r.ID, err)
		}
		s.pub.publish(ctx, "/tasks/exec-started", &events.TaskExecStarted{ContainerID: r.ID, ExecID: r.ExecID, Pid: uint32(pid)})
		return &task.StartResponse{Pid: uint32(pid)}, nil
	}
	k.mu.Lock()
	if k.init.started {
		k.mu.Unlock()
		return nil, fmt.Errorf("container %s has started already: %w", r.ID, errdefs.ErrFailedPrecondition)
	}
	k.init.started = true
	k.mu.Unlock()
	pid, err := k.drv.start(ctx)
	k.mu.Lock()
	if err != nil {
		k.init.started = false // still created: it can be killed and deleted as such
	} else {
		k.init.pid = pid
	}
	k.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("failed to start container %s: %w", r.ID, err)
	}
	s.pub.publish(ctx, "/tasks/start", &events.TaskStart{ContainerID: r.ID, Pid: uint32(pid)})
	return &task.StartResponse{Pid: uint32(pid)}, nil
}

// Delete deletes an exited exec, or the stopped container; a created container is killed first.
func (s *Service) Delete(ctx context.Context, r *task.DeleteRequest) (*task.DeleteResponse, error) {
	k, err := s.get()
	if err != nil {
		return nil, err
	}
	if r.ExecID != "" {
		e, err := k.deleteExec(r.ExecID)
		if err != nil {
			return nil, err
		}
		return &task.DeleteResponse{Pid: e.Pid, ExitStatus: e.Status, ExitedAt: timestamppb.New(e.ExitedAt)}, nil
	}
	if st := k.status(); st.Status == apitask.Status_CREATED {
		if err := k.drv.kill(ctx, 9, true); err != nil {
			// A runtime that cannot signal a created container (runsc) still deletes it by force.
			log.G(ctx).WithError(err).Warn("failed to kill a created container; deleting it by force")
			if err := k.drv.cleanup(ctx); err != nil {
				return nil, err
			}
		}
	} else if st.Status != apitask.Status_STOPPED {
		return nil, fmt.Errorf("container %s must be stopped before deletion: %w", r.ID, errdefs.ErrFailedPrecondition)
	}
	select {
	case <-k.init.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("failed to delete container %s: %w", r.ID, ctx.Err())
	}
	if err := k.cleanAgain(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.deleted = true
	s.mu.Unlock()
	e := k.init.exit
	_ = os.Remove(k.dir + "/" + ShimPIDFile)
	s.pub.publish(ctx, "/tasks/delete", &events.TaskDelete{ContainerID: r.ID, ID: r.ID, Pid: e.Pid, ExitStatus: e.Status, ExitedAt: timestamppb.New(e.ExitedAt)})
	return &task.DeleteResponse{Pid: e.Pid, ExitStatus: e.Status, ExitedAt: timestamppb.New(e.ExitedAt)}, nil
}

// Exec creates an exec process; Start runs it.
func (s *Service) Exec(ctx context.Context, r *task.ExecProcessRequest) (*emptypb.Empty, error) {
	k, err := s.get()
	if err != nil {
		return nil, err
	}
	var p specs.Process
	if err := json.Unmarshal(r.Spec.GetValue(), &p); err != nil {
		return nil, fmt.Errorf("exec %s: process spec is not a valid OCI process: %v: %w", r.ExecID, err, errdefs.ErrInvalidArgument)
	}
	p.Terminal = r.Terminal
	if err := k.addExec(r.ExecID, &p, r.Stdin, r.Stdout, r.Stderr); err != nil {
		return nil, fmt.Errorf("failed to create exec %s in container %s: %w", r.ExecID, r.ID, err)
	}
	s.pub.publish(ctx, "/tasks/exec-added", &events.TaskExecAdded{ContainerID: r.ID, ExecID: r.ExecID})
	return &emptypb.Empty{}, nil
}

// Kill signals the init, an exec, or with All every process of the container.
func (s *Service) Kill(ctx context.Context, r *task.KillRequest) (*emptypb.Empty, error) {
	if r.Signal > 64 {
		return nil, fmt.Errorf("signal %d: signals are 0 to 64: %w", r.Signal, errdefs.ErrInvalidArgument)
	}
	k, p, err := s.process(r.ExecID)
	if err != nil {
		return nil, err
	}
	if r.ExecID != "" {
		return &emptypb.Empty{}, k.drv.signalExec(ctx, r.ExecID, p, int(r.Signal))
	}
	select {
	case <-p.done:
		return nil, fmt.Errorf("container %s: process already finished: %w", r.ID, errdefs.ErrNotFound)
	default:
	}
	if err := k.drv.kill(ctx, int(r.Signal), r.All); err != nil {
		select {
		case <-p.done:
			return nil, fmt.Errorf("container %s: process already finished: %w", r.ID, errdefs.ErrNotFound)
		default:
		}
		return nil, fmt.Errorf("failed to kill container %s: %w", r.ID, err)
	}
	return &emptypb.Empty{}, nil
}
