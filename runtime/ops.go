// Package runtime defines the operations every runtime family implements (iSulad's rt_ops) and the
// ordered registry that picks the family for a runtime name.
package runtime

import (
	"context"
	"time"

	"github.com/containerd/containerd/api/types"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api/keeper"
)

// Binary is a resolved runtime: its name and, for families that exec one, the binary and its arguments.
type Binary struct {
	// Name is the resolved, lower-cased runtime name stored with the container.
	Name string
	// Path is the executable the family runs (runc, runsc, a shim v2 binary); empty for lcr.
	Path string
	// Args go before the runtime's subcommand.
	Args []string
}

// Task names one container's task to a family.
type Task struct {
	Namespace string
	ID        string
	// Bundle is the directory holding config.json and the rootfs reference.
	Bundle string
	// Runtime is what the container's runtime name resolved to.
	Runtime Binary
}

// CreateOpts are the parameters of Create.
type CreateOpts struct {
	Task
	// Stdin, Stdout and Stderr are FIFO paths the client reads and writes; empty means /dev/null.
	Stdin, Stdout, Stderr string
	Terminal              bool
	// Options are runtime-specific options passed through unchanged (ctr sends containerd.runc.v1.Options).
	Options *anypb.Any
	// Log, if set, is the log file the init's output is written to, besides Stdout and Stderr.
	Log *keeper.LogFile
	// Rootfs are mounts (a snapshot's) the shim mounts on <bundle>/rootfs before it creates the task.
	Rootfs []*types.Mount
}

// KillOpts are the parameters of Kill.
type KillOpts struct {
	Signal uint32
	// All signals every process of the container, not only its init.
	All bool
	// ExecID names an exec process to signal instead of the init.
	ExecID string
}

// ExecOpts are the parameters of Exec.
type ExecOpts struct {
	Task
	ExecID                string
	Process               *specs.Process
	Stdin, Stdout, Stderr string
	Terminal              bool
}

// ResizeOpts are the parameters of Resize; an empty ExecID resizes the init process.
type ResizeOpts struct {
	ExecID        string
	Width, Height uint32
}

// Exit is how a process ended.
type Exit struct {
	Pid       uint32
	Status    uint32
	Timestamp time.Time
}

// State is a task's lifecycle state.
type State string

// The task states, matching containerd's.
const (
	Created State = "created"
	// Creating and Deleting are the intents corrald records before it creates or deletes a task,
	// so that a crash in between is finished or rolled back at restore.
	Creating State = "creating"
	Deleting State = "deleting"
	Running  State = "running"
	Paused   State = "paused"
	Stopped  State = "stopped"
	Unknown  State = "unknown"
)

// Status is a task's state as the runtime sees it.
type Status struct {
	Pid   uint32
	State State
}

// Process is one process of a container.
type Process struct {
	Pid uint32
}

// Ops is one runtime family. Every method may be called concurrently for different tasks; the caller
// serialises lifecycle calls for one task. Methods take the resolved runtime in Task, never a fresh
// lookup. An empty execID names the container's init process.
type Ops interface {
	// Detect reports whether this family runs the runtime name (already validated and lower-cased).
	Detect(name string) bool
	// Resolve finds the binary this family runs for name: the configured path and args, when a
	// path is configured, else the family's own lookup.
	Resolve(name, path string, args []string) (Binary, error)
	// Create prepares the container from opts.Bundle and starts its keeper; it returns the init pid,
	// or 0 if the family learns it only at Start.
	Create(ctx context.Context, opts CreateOpts) (uint32, error)
	// Start starts the created container's init, or a created exec, and returns its pid.
	Start(ctx context.Context, t Task, execID string) (uint32, error)
	// Kill signals the init process, an exec, or with All every process of the container.
	Kill(ctx context.Context, t Task, opts KillOpts) error
	// Wait blocks until the process has exited and returns its status. For the init it must be
	// callable again after corrald restarts, returning the recorded status of a task that exited meanwhile.
	Wait(ctx context.Context, t Task, execID string) (Exit, error)
	// Delete releases everything the task holds on the host: keeper, runtime state, work dir.
	// It is idempotent and forces a running task down.
	Delete(ctx context.Context, t Task) error
	// Status reports the task's state as the runtime sees it.
	Status(ctx context.Context, t Task) (Status, error)
	// Pids lists the container's processes.
	Pids(ctx context.Context, t Task) ([]Process, error)
	// Pause freezes every process of the container.
	Pause(ctx context.Context, t Task) error
	// Resume thaws a paused container.
	Resume(ctx context.Context, t Task) error
	// Update changes the container's resource limits, unless r is nil, and hands the runtime the
	// annotations (keeper.AnnotationReopenLog asks a keeper to reopen its log).
	Update(ctx context.Context, t Task, r *specs.LinuxResources, annotations map[string]string) error
	// Stats returns the container's resource usage as a protobuf Any, as containerd's Metrics carry it.
	Stats(ctx context.Context, t Task) (*anypb.Any, error)
	// Exec creates an additional process in the running container; Start starts it.
	Exec(ctx context.Context, opts ExecOpts) error
	// DeleteExec releases an exited exec process.
	DeleteExec(ctx context.Context, t Task, execID string) error
	// Resize changes the terminal size of the init process or of an exec.
	Resize(ctx context.Context, t Task, opts ResizeOpts) error
	// CloseIO closes the stdin of the init process or of an exec.
	CloseIO(ctx context.Context, t Task, execID string) error
	// Features says what the resolved runtime bin gives containers beyond what every family does.
	Features(ctx context.Context, bin Binary) Features
}
