package shim

import (
	"context"
	"fmt"

	"github.com/corral-dev/corral/runtime"
)

// Keepers is what the runtime families that run their containers under corral-shim (shim v1, lcr)
// share: the keeper options, the created execs, and the operations the keeper protocol carries
// alike for every driver. A family embeds it and adds its own operations.
type Keepers struct {
	runtime.Unsupported
	KeeperOpts
	// Execs are the execs created but not yet started.
	Execs Execs
}

// KeeperOf is corrald's side of the keeper of task t.
func (k *Keepers) KeeperOf(t runtime.Task) *Client { return k.Client(t.Namespace, t.ID) }

// Wait returns the exit the keeper recorded, waiting for it if the process still runs.
func (k *Keepers) Wait(ctx context.Context, t runtime.Task, execID string) (runtime.Exit, error) {
	e, err := k.KeeperOf(t).Wait(ctx, execID)
	if err != nil {
		return runtime.Exit{}, fmt.Errorf("failed to wait for task %s: %w", t.ID, err)
	}
	return runtime.Exit{Pid: e.Pid, Status: e.Status, Timestamp: e.ExitedAt}, nil
}

// CloseIO closes the stdin of the init or of an exec through the keeper.
func (k *Keepers) CloseIO(ctx context.Context, t runtime.Task, execID string) error {
	return k.KeeperOf(t).CloseStdin(ctx, execID)
}

// DeleteExec forgets an exec: a created one, or an exited one the keeper ran.
func (k *Keepers) DeleteExec(ctx context.Context, t runtime.Task, execID string) error {
	return k.Execs.Delete(ctx, k.KeeperOf(t), execID)
}
