package v1

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/shim"
)

func execKey(t runtime.Task, execID string) string { return t.Namespace + "/" + t.ID + "/" + execID }

// Exec records an exec process; Start has the keeper run it.
func (r *Runtime) Exec(ctx context.Context, o runtime.ExecOpts) error {
	if o.Terminal {
		return fmt.Errorf("terminal for exec %s with runtime %s: %w", o.ExecID, o.Runtime.Name, errdefs.ErrNotImplemented)
	}
	if !shim.Alive(r.workDir(o.Task)) {
		return fmt.Errorf("task %s is not running: %w", o.ID, errdefs.ErrFailedPrecondition)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := execKey(o.Task, o.ExecID)
	if _, dup := r.execs[k]; dup {
		return fmt.Errorf("exec %s: %w", o.ExecID, errdefs.ErrAlreadyExists)
	}
	r.execs[k] = o
	return nil
}

func (r *Runtime) startExec(ctx context.Context, t runtime.Task, execID string) (uint32, error) {
	r.mu.Lock()
	o, ok := r.execs[execKey(t, execID)]
	delete(r.execs, execKey(t, execID))
	r.mu.Unlock()
	if !ok {
		return 0, fmt.Errorf("exec %s of task %s: %w", execID, t.ID, errdefs.ErrNotFound)
	}
	e, err := r.keeper(ctx, t, shim.Request{Op: shim.OpExec, ExecID: execID, Process: o.Process,
		Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr})
	if err != nil {
		return 0, fmt.Errorf("failed to start exec %s in task %s: %w", execID, t.ID, err)
	}
	return e.Pid, nil
}

// DeleteExec forgets an exec: a created one, or an exited one the keeper ran.
func (r *Runtime) DeleteExec(ctx context.Context, t runtime.Task, execID string) error {
	r.mu.Lock()
	_, pending := r.execs[execKey(t, execID)]
	delete(r.execs, execKey(t, execID))
	r.mu.Unlock()
	if pending {
		return nil
	}
	if _, err := r.keeper(ctx, t, shim.Request{Op: shim.OpDeleteExec, ExecID: execID}); err != nil {
		if _, xerr := shim.ReadExit(r.workDir(t)); xerr == nil {
			return nil // the keeper has finished: nothing of the exec remains
		}
		return fmt.Errorf("failed to delete exec %s of task %s: %w", execID, t.ID, err)
	}
	return nil
}
