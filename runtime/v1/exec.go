package v1

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/shim"
)

// Exec records an exec process; Start has the keeper run it.
func (r *Runtime) Exec(ctx context.Context, o runtime.ExecOpts) error {
	if o.Terminal {
		return fmt.Errorf("terminal for exec %s with runtime %s: %w", o.ExecID, o.Runtime.Name, errdefs.ErrNotImplemented)
	}
	if !shim.Alive(r.workDir(o.Task)) {
		return fmt.Errorf("task %s is not running: %w", o.ID, errdefs.ErrFailedPrecondition)
	}
	return r.Execs.Add(r.client(o.Task), shim.Request{Op: shim.OpExec, ExecID: o.ExecID, Process: o.Process,
		Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr})
}

func (r *Runtime) startExec(ctx context.Context, t runtime.Task, execID string) (uint32, error) {
	return r.Execs.Start(ctx, r.client(t), execID)
}
