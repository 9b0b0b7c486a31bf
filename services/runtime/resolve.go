// Package runtime is the seed's runtime API for the services: it resolves a request's runtime name
// (request → config default_runtime → "lcr"), checks it against the whitelist, finds the family that
// runs it and the binary it needs, and describes every known runtime for `corral runtimes`.
package runtime

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/config"
	"github.com/corral-dev/corral/runtime"
	v2 "github.com/corral-dev/corral/runtime/v2"
)

// BuiltinDefault is the runtime used when neither the request nor the config names one.
const BuiltinDefault = "lcr"

// builtins are the names accepted without configuration (besides io.containerd.<rt>.<ver>).
var builtins = []string{"lcr", "runc", "kata-runtime", "runsc"}

// Resolver maps runtime names to families and binaries.
type Resolver struct {
	cfg      *config.Config
	registry *runtime.Registry
}

// NewResolver returns a resolver over the config's runtimes and the registry's families.
func NewResolver(cfg *config.Config, registry *runtime.Registry) *Resolver {
	return &Resolver{cfg: cfg, registry: registry}
}

// Resolve picks the runtime name for a new container: requested, else default_runtime, else "lcr",
// lower-cased and checked against the whitelist.
func (r *Resolver) Resolve(requested string) (string, error) {
	name := requested
	if name == "" {
		name = r.cfg.DefaultRuntime
	}
	if name == "" {
		name = BuiltinDefault
	}
	name = strings.ToLower(name)
	if err := r.check(name); err != nil {
		return "", err
	}
	return name, nil
}

func (r *Resolver) check(name string) error {
	if isBuiltin(name) || v2.IsV2Name(name) {
		return nil
	}
	if _, ok := r.cfg.Runtimes[name]; ok {
		return nil
	}
	hint := ""
	if strings.HasPrefix(name, "io.containerd.") {
		hint = " (shim v2 names have exactly four parts: io.containerd.<rt>.<ver>)"
	}
	return fmt.Errorf("invalid runtime name %q%s: accepted are %s: %w", name, hint, r.accepted(), errdefs.ErrInvalidArgument)
}

func (r *Resolver) accepted() string {
	names := append([]string(nil), builtins...)
	names = append(names, "io.containerd.<rt>.<ver>")
	var configured []string
	for n := range r.cfg.Runtimes {
		if !isBuiltin(n) {
			configured = append(configured, n)
		}
	}
	sort.Strings(configured)
	names = append(names, configured...)
	return strings.Join(names, ", ")
}

func isBuiltin(name string) bool {
	for _, b := range builtins {
		if name == b {
			return true
		}
	}
	return false
}

// Family returns the family that runs a stored, already resolved name, without the whitelist: a
// name removed from the config since must still reach the family that runs its containers.
func (r *Resolver) Family(name string) (runtime.Family, error) {
	return r.registry.Query(name)
}

// Lookup returns the family and binary for a resolved name, or an error saying which runtime
// cannot run, why, and how to pick another.
func (r *Resolver) Lookup(name string) (runtime.Family, runtime.Binary, error) {
	if err := r.check(name); err != nil {
		return runtime.Family{}, runtime.Binary{}, err
	}
	f, err := r.registry.Query(name)
	if err != nil {
		return f, runtime.Binary{}, err
	}
	bin := runtime.Binary{Name: name}
	if f.Unavailable != nil {
		return f, bin, r.unavailable(name, f.Unavailable)
	}
	rt := r.cfg.Runtimes[name]
	if bin, err = f.Ops.Resolve(name, rt.Path, rt.RuntimeArgs); err != nil {
		return f, runtime.Binary{Name: name}, r.unavailable(name, err)
	}
	return f, bin, nil
}

func (r *Resolver) unavailable(name string, why error) error {
	return fmt.Errorf("runtime %q is not available: %w; choose another with --runtime or set default_runtime in the config", name, why)
}

// Features says what the runtime name gives containers beyond what every family does, as its
// family answers; a name that cannot run here has none, and says why.
func (r *Resolver) Features(ctx context.Context, name string) runtime.Features {
	f, bin, err := r.Lookup(name)
	if err != nil {
		return runtime.Features{NoRecursiveReadOnly: err.Error()}
	}
	return f.Ops.Features(ctx, bin)
}
