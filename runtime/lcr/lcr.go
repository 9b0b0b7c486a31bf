// Package lcr is the runtime family for the name "lcr": LXC containers through the engine layer. A
// corral-shim keeper with its lxc driver translates the container's OCI spec into an LXC config
// (engine/lcr) and runs it with stock LXC: lxc-execute at start, lxc-attach for execs. corrald only
// launches the keeper.
package lcr

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/api/keeper"
	lxc "github.com/corral-dev/corral/engine/lcr"
	"github.com/corral-dev/corral/runtime"
	v1 "github.com/corral-dev/corral/runtime/v1"
	v2 "github.com/corral-dev/corral/runtime/v2"
)

// Name is the only runtime name this family runs.
const Name = "lcr"

// New returns the lcr family on the shim client shims. host is the loaded lcr engine; nil when LXC
// cannot run here.
func New(shims *v2.Runtime, host *lxc.Host, o v1.Opts) *v2.Family {
	return shims.Family(Name, Detect, resolve, features, func(co runtime.CreateOpts) (runtime.CreateOpts, error) {
		if host == nil {
			return co, fmt.Errorf("the lcr engine is not loaded: %w", errdefs.ErrFailedPrecondition)
		}
		opts := keeper.Options{Driver: keeper.DriverLXC, LXCTools: host.Dir,
			CreateTimeout: o.CreateTimeout, CallTimeout: o.CallTimeout, IODrain: o.IODrain, Log: co.Log}
		a, err := opts.Any()
		co.Runtime, co.Options, co.Log = runtime.Binary{Name: co.Runtime.Name, Path: o.ShimBinary}, a, nil
		return co, err
	})
}

// resolve gives the name alone: the keeper finds the LXC tools through the engine.
func resolve(name, _ string, _ []string) (runtime.Binary, error) {
	return runtime.Binary{Name: name}, nil
}

// features are none: LXC 5 remounts only the top mount of a bind entry read-only (its recursive
// mount_setattr serves idmapped entries only), and lxc-execute refused a mapped root in a trial.
func features(context.Context, runtime.Binary) runtime.Features {
	return runtime.Features{NoRecursiveReadOnly: "LXC 5 remounts only the top mount of a bind read-only"}
}

// Detect accepts exactly "lcr", in any case.
func Detect(name string) bool { return strings.EqualFold(name, Name) }
