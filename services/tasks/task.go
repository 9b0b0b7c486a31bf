// Package tasks runs container tasks through the runtime families: it writes bundles, calls the
// family's operations, tracks exits, publishes task events, restores tasks at start and serves
// containerd's tasks API.
package tasks

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/containerd/api/types"

	"github.com/corral-dev/corral/runtime"
)

// record is what the store keeps of a task, enough to restore it after corrald restarts.
type record struct {
	Namespace  string        `json:"namespace"`
	ID         string        `json:"id"`
	Runtime    string        `json:"runtime"`
	Bundle     string        `json:"bundle"`
	Pid        uint32        `json:"pid"`
	State      runtime.State `json:"state"`
	Stdin      string        `json:"stdin,omitempty"`
	Stdout     string        `json:"stdout,omitempty"`
	Stderr     string        `json:"stderr,omitempty"`
	Terminal   bool          `json:"terminal,omitempty"`
	ExitStatus uint32        `json:"exit_status,omitempty"`
	ExitedAt   time.Time     `json:"exited_at,omitzero"`
	// StartedAt is when the init was last asked to start; zero for a task never started.
	StartedAt time.Time `json:"started_at,omitzero"`
	// Rootfs are the rootfs mounts the task was created with, which a restart mounts again.
	Rootfs []*types.Mount `json:"rootfs,omitempty"`
	// Deleting is the intent recorded before the task's resources are deleted: a crash in between
	// is finished at restore.
	Deleting bool `json:"deleting,omitempty"`
}

func (r *record) marshal() []byte {
	b, _ := json.Marshal(r)
	return b
}

// task is a live task, or one exec process of a task (then rec.ID is the exec id). op serialises
// operations on it; mu guards rec and execs; exited is closed once rec holds the exit. waiters counts
// the clients waiting for the init; supervised is set once its exit has been supervised.
type task struct {
	op         sync.Mutex
	mu         sync.Mutex
	rec        record
	ops        runtime.Ops
	rt         runtime.Task
	exited     chan struct{}
	execs      map[string]*task
	waiters    atomic.Int32
	supervised atomic.Bool
}

func newTask(rec record, ops runtime.Ops, rt runtime.Task) *task {
	t := &task{rec: rec, ops: ops, rt: rt, exited: make(chan struct{}), execs: map[string]*task{}}
	if rec.State == runtime.Stopped {
		close(t.exited)
	}
	return t
}

// snapshot returns a copy of the record, safe to read without holding mu.
func (t *task) snapshot() record {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rec
}
