package runtime

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"
)

// Unsupported implements every operation but Detect with an errdefs.ErrNotImplemented error naming
// the family and the operation. Families embed it and override what they support.
type Unsupported struct {
	// Family names the family in errors.
	Family string
}

func (u Unsupported) err(op string) error {
	return fmt.Errorf("runtime family %s does not support %s: %w", u.Family, op, errdefs.ErrNotImplemented)
}

// Resolve returns the name alone: the family runs no binary of its own.
func (u Unsupported) Resolve(name, _ string, _ []string) (Binary, error) {
	return Binary{Name: name}, nil
}

// Features are none: the family says nothing of its runtime.
func (u Unsupported) Features(context.Context, Binary) Features {
	return Features{NoRecursiveReadOnly: "runtime family " + u.Family + " does not say"}
}

// Create is not supported.
func (u Unsupported) Create(context.Context, CreateOpts) (uint32, error) { return 0, u.err("create") }

// Start is not supported.
func (u Unsupported) Start(context.Context, Task, string) (uint32, error) { return 0, u.err("start") }

// Kill is not supported.
func (u Unsupported) Kill(context.Context, Task, KillOpts) error { return u.err("kill") }

// Wait is not supported.
func (u Unsupported) Wait(context.Context, Task, string) (Exit, error) { return Exit{}, u.err("wait") }

// Delete is not supported.
func (u Unsupported) Delete(context.Context, Task) error { return u.err("delete") }

// Status is not supported.
func (u Unsupported) Status(context.Context, Task) (Status, error) { return Status{}, u.err("status") }

// Pids is not supported.
func (u Unsupported) Pids(context.Context, Task) ([]Process, error) { return nil, u.err("pids") }

// Pause is not supported.
func (u Unsupported) Pause(context.Context, Task) error { return u.err("pause") }

// Resume is not supported.
func (u Unsupported) Resume(context.Context, Task) error { return u.err("resume") }

// Update is not supported.
func (u Unsupported) Update(context.Context, Task, *specs.LinuxResources, map[string]string) error {
	return u.err("update")
}

// Stats is not supported.
func (u Unsupported) Stats(context.Context, Task) (*anypb.Any, error) { return nil, u.err("stats") }

// Exec is not supported.
func (u Unsupported) Exec(context.Context, ExecOpts) error { return u.err("exec") }

// DeleteExec is not supported.
func (u Unsupported) DeleteExec(context.Context, Task, string) error { return u.err("delete-exec") }

// Resize is not supported.
func (u Unsupported) Resize(context.Context, Task, ResizeOpts) error { return u.err("resize") }

// CloseIO is not supported.
func (u Unsupported) CloseIO(context.Context, Task, string) error { return u.err("close-io") }
