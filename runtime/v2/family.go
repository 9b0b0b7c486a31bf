package v2

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/runtime"
)

// Launch says how a family starts a task's shim: it returns o with the shim binary (with its
// arguments) as o.Runtime and the options, stdio and log its Create carries.
type Launch func(o runtime.CreateOpts) (runtime.CreateOpts, error)

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
// A container log is written by corral-shim as the shim's binary:// logger, which relays the output to
// the client's FIFOs too. containerd's shims give such a logger no terminal and the container no stdin,
// so a container with either keeps no log on this family.
func (r *Runtime) ShimV2() *Family {
	return r.Family("shim v2", IsV2Name, func(o runtime.CreateOpts) (runtime.CreateOpts, error) {
		if o.Log == nil || o.Terminal || o.Stdin != "" {
			o.Log = nil
			return o, nil
		}
		if r.logger == "" {
			return o, fmt.Errorf("container logs on shim v2 need corral-shim as the logger, and it was not found: %w", errdefs.ErrFailedPrecondition)
		}
		q := url.Values{"path": {o.Log.Path}, "format": {o.Log.Format}, "max-size": {o.Log.MaxSize.String()},
			"max-file": {strconv.Itoa(o.Log.MaxFile)}}
		if o.Stdout != "" {
			q.Set("stdout-fifo", o.Stdout)
		}
		if o.Stderr != "" {
			q.Set("stderr-fifo", o.Stderr)
		}
		o.Stdout = (&url.URL{Scheme: "binary", Path: r.logger, RawQuery: q.Encode()}).String()
		o.Stderr, o.Log = o.Stdout, nil
		return o, nil
	})
}

// Detect reports whether the family runs the runtime name.
func (f *Family) Detect(name string) bool { return f.detect(name) }

// Create launches the task's shim and has it create the container.
func (f *Family) Create(ctx context.Context, o runtime.CreateOpts) (uint32, error) {
	o, err := f.launch(o)
	if err != nil {
		return 0, err
	}
	return f.create(ctx, o)
}

// Restart is not supported by any family yet.
func (f *Family) Restart(ctx context.Context, t runtime.Task) error {
	return runtime.Unsupported{Family: f.name}.Restart(ctx, t)
}
