package v2

import (
	"context"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/runtime"
)

// Launch says how a family starts a task's shim: the shim binary (with its arguments) and the
// options its Create carries.
type Launch func(o runtime.CreateOpts) (shim runtime.Binary, options *anypb.Any, err error)

// Family is one runtime family on the shared shim client: families differ only in the names they
// detect and in how they launch a task's shim, never in how the shim is driven.
type Family struct {
	*Runtime
	name   string
	detect func(string) bool
	launch Launch
}

var _ runtime.Ops = (*Family)(nil)

// Family returns the family name on this client.
func (r *Runtime) Family(name string, detect func(string) bool, launch Launch) *Family {
	return &Family{Runtime: r, name: name, detect: detect, launch: launch}
}

// ShimV2 is the shim v2 family: io.containerd.<rt>.<ver> names, each run by the resolved
// containerd-shim-<rt>-<ver> binary with the options the request carries.
func (r *Runtime) ShimV2() *Family {
	return r.Family("shim v2", IsV2Name, func(o runtime.CreateOpts) (runtime.Binary, *anypb.Any, error) {
		return o.Runtime, o.Options, nil
	})
}

// Detect reports whether the family runs the runtime name.
func (f *Family) Detect(name string) bool { return f.detect(name) }

// Create launches the task's shim and has it create the container.
func (f *Family) Create(ctx context.Context, o runtime.CreateOpts) (uint32, error) {
	bin, opts, err := f.launch(o)
	if err != nil {
		return 0, err
	}
	o.Runtime, o.Options = bin, opts
	return f.create(ctx, o)
}

// Restart is not supported by any family yet.
func (f *Family) Restart(ctx context.Context, t runtime.Task) error {
	return runtime.Unsupported{Family: f.name}.Restart(ctx, t)
}
