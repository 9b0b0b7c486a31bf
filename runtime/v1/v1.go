// Package v1 is the shim v1 runtime family: every runc-compatible runtime (runc, runsc, crun,
// kata-runtime or a configured binary), run by one corral-shim keeper per container with its runc
// driver. corrald only launches the keeper; the keeper runs the runtime.
package v1

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/runtime"
	v2 "github.com/corral-dev/corral/runtime/v2"
)

// Opts configure the keepers of the family.
type Opts struct {
	// ShimBinary is corral-shim.
	ShimBinary string
	// CreateTimeout, CallTimeout and IODrain bound the keeper's runtime calls and stdio drain.
	CreateTimeout, CallTimeout, IODrain time.Duration
}

// New returns the shim v1 family on the shim client shims.
func New(shims *v2.Runtime, o Opts) *v2.Family {
	return shims.Family("shim v1", Detect, Resolve, features, func(co runtime.CreateOpts) (runtime.CreateOpts, error) {
		opts := keeper.Options{Driver: keeper.DriverRunc, Binary: co.Runtime.Path, Args: co.Runtime.Args,
			CreateTimeout: o.CreateTimeout, CallTimeout: o.CallTimeout, IODrain: o.IODrain, Log: co.Log}
		a, err := opts.Any()
		co.Runtime, co.Options, co.Log = runtime.Binary{Name: co.Runtime.Name, Path: o.ShimBinary}, a, nil
		return co, err
	})
}

// Resolve finds the runc-compatible binary for name: the configured path, else name on $PATH.
func Resolve(name, path string, args []string) (runtime.Binary, error) {
	if bin, ok, err := runtime.Configured(name, path, args); ok {
		return bin, err
	}
	return runtime.LookPath(name, name, args, false)
}

// features are what the runc-compatible binary says of itself; user namespaces with runc, whose
// containers run on idmapped layers that corral-shim mounts.
func features(ctx context.Context, bin runtime.Binary) runtime.Features {
	f := runtime.RuncFeatures(ctx, bin.Path)
	f.UserNamespaces = filepath.Base(bin.Path) == "runc"
	return f
}

// Detect accepts every name but lcr: shim v1 is the catch-all family, queried last.
func Detect(name string) bool { return name != "" && !strings.EqualFold(name, "lcr") }
