package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/containerd/containerd/api/events"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/services/store"
)

// exec returns the task's exec process id.
func (t *task) exec(id string) (*task, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.execs[id]
	if !ok {
		return nil, fmt.Errorf("exec %s of task %s: %w", id, t.rt.ID, errdefs.ErrNotFound)
	}
	return p, nil
}

// exec creates an exec process in a running task. Execs live in memory only: they do not survive a
// corrald restart.
func (s *Service) exec(ctx context.Context, t *task, r *tasksapi.ExecProcessRequest) error {
	if err := store.ValidateID("exec", r.ExecID); err != nil {
		return err
	}
	if r.ExecID == t.rt.ID {
		return fmt.Errorf("exec id %q is the container's own id: choose another: %w", r.ExecID, errdefs.ErrInvalidArgument)
	}
	var p specs.Process
	if err := json.Unmarshal(r.Spec.GetValue(), &p); err != nil {
		return fmt.Errorf("exec spec is not an OCI process: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if len(p.Args) == 0 {
		return fmt.Errorf("exec %s has no args: %w", r.ExecID, errdefs.ErrInvalidArgument)
	}
	if !hasPath(p.Env) { // as for the init: ctr exec sends no env at all
		p.Env = append(p.Env, DefaultPath)
	}
	if st := t.snapshot().State; st != runtime.Running {
		return fmt.Errorf("task %s is %s, exec needs a running task: %w", t.rt.ID, st, errdefs.ErrFailedPrecondition)
	}
	t.mu.Lock()
	if _, dup := t.execs[r.ExecID]; dup {
		t.mu.Unlock()
		return fmt.Errorf("exec %s: %w", r.ExecID, errdefs.ErrAlreadyExists)
	}
	proc := newTask(record{Namespace: t.rec.Namespace, ID: r.ExecID, State: runtime.Created,
		Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal}, t.ops, t.rt)
	t.execs[r.ExecID] = proc
	t.mu.Unlock()
	err := t.ops.Exec(ctx, runtime.ExecOpts{Task: t.rt, ExecID: r.ExecID, Process: &p,
		Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal})
	if err != nil {
		t.mu.Lock()
		delete(t.execs, r.ExecID)
		t.mu.Unlock()
		return fmt.Errorf("failed to exec %s in task %s: %w", r.ExecID, t.rt.ID, err)
	}
	s.events.Publish(ctx, t.rt.Namespace, "/tasks/exec-added", &events.TaskExecAdded{ContainerID: t.rt.ID, ExecID: r.ExecID})
	return nil
}

// startExec starts a created exec and watches its exit.
func (s *Service) startExec(ctx context.Context, t *task, id string) (uint32, error) {
	p, err := t.exec(id)
	if err != nil {
		return 0, err
	}
	p.op.Lock()
	defer p.op.Unlock()
	if st := p.snapshot().State; st != runtime.Created {
		return 0, fmt.Errorf("exec %s is %s, only a created exec can start: %w", id, st, errdefs.ErrFailedPrecondition)
	}
	pid, err := t.ops.Start(ctx, t.rt, id)
	if err != nil {
		// An exec that failed to start has nothing left to run or delete: free its id.
		_ = t.ops.DeleteExec(ctx, t.rt, id)
		t.mu.Lock()
		delete(t.execs, id)
		t.mu.Unlock()
		return 0, err
	}
	p.mu.Lock()
	p.rec.Pid = pid
	if p.rec.State == runtime.Created {
		p.rec.State = runtime.Running
	}
	p.mu.Unlock()
	go s.watchExec(t, p)
	s.events.Publish(ctx, t.rt.Namespace, "/tasks/exec-started", &events.TaskExecStarted{ContainerID: t.rt.ID, ExecID: id, Pid: pid})
	return pid, nil
}

func (s *Service) watchExec(t *task, p *task) {
	ctx := log.WithLogger(context.Background(), log.L.WithField("id", t.rt.ID).WithField("exec_id", p.rec.ID))
	e, err := t.ops.Wait(ctx, t.rt, p.rec.ID)
	if err != nil {
		log.G(ctx).WithError(err).Warn("lost exec process; marking it stopped with status 255")
		e = runtime.Exit{Pid: p.snapshot().Pid, Status: 255, Timestamp: time.Now()}
	}
	if e.Pid == 0 { // shims answer Wait without the pid: events carry it, as containerd's do
		e.Pid = p.snapshot().Pid
	}
	p.mu.Lock()
	p.rec.State, p.rec.ExitStatus, p.rec.ExitedAt = runtime.Stopped, e.Status, e.Timestamp
	close(p.exited)
	p.mu.Unlock()
	s.events.Publish(ctx, t.rt.Namespace, "/tasks/exit", &events.TaskExit{ContainerID: t.rt.ID, ID: p.rec.ID, Pid: e.Pid,
		ExitStatus: e.Status, ExitedAt: timestamppb.New(e.Timestamp)})
}

// deleteExec removes an exited or never started exec.
func (s *Service) deleteExec(ctx context.Context, t *task, id string) (record, error) {
	p, err := t.exec(id)
	if err != nil {
		return record{}, err
	}
	p.op.Lock()
	defer p.op.Unlock()
	rec := p.snapshot()
	if rec.State == runtime.Running {
		return record{}, fmt.Errorf("exec %s must be stopped before deletion: %w", id, errdefs.ErrFailedPrecondition)
	}
	if err := t.ops.DeleteExec(ctx, t.rt, id); err != nil {
		return record{}, fmt.Errorf("failed to delete exec %s: %w", id, err)
	}
	t.mu.Lock()
	delete(t.execs, id)
	t.mu.Unlock()
	return rec, nil
}
