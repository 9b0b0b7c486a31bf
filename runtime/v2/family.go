package v2

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/runtime"
)

// Launch says how a family starts a task's shim: it returns o with the shim binary (with its
// arguments) as o.Runtime and the options, stdio and log its Create carries.
type Launch func(o runtime.CreateOpts) (runtime.CreateOpts, error)

// Family is one runtime family on the shared shim client: families differ only in the names they
// detect and in how they launch a task's shim, never in how the shim is driven.
type Family struct {
	*Runtime
	name     string
	detect   func(string) bool
	resolve  func(name, path string, args []string) (runtime.Binary, error)
	features FeaturesOf
	launch   Launch
	// foreign is true for containerd's own shims, which know no corral-shim annotation.
	foreign bool
}

// Resolver finds the binary a family runs for a runtime name, given its configured path and args.
type Resolver func(name, path string, args []string) (runtime.Binary, error)

// FeaturesOf says what a family's resolved runtime gives containers beyond what every family does.
type FeaturesOf func(ctx context.Context, bin runtime.Binary) runtime.Features

var _ runtime.Ops = (*Family)(nil)

// Family returns the family name on this client.
func (r *Runtime) Family(name string, detect func(string) bool, resolve Resolver, features FeaturesOf, launch Launch) *Family {
	return &Family{Runtime: r, name: name, detect: detect, resolve: resolve, features: features, launch: launch}
}

// Features says what the resolved runtime bin gives containers beyond what every family does.
func (f *Family) Features(ctx context.Context, bin runtime.Binary) runtime.Features {
	return f.features(ctx, bin)
}

// Resolve finds the binary the family runs for name.
func (f *Family) Resolve(name, path string, args []string) (runtime.Binary, error) {
	return f.resolve(name, path, args)
}

// ResolveShim finds the shim v2 binary for an io.containerd.<rt>.<ver> name: the configured path,
// else containerd-shim-<rt>-<ver> on $PATH or next to corrald, where containerd looks too.
func ResolveShim(name, path string, args []string) (runtime.Binary, error) {
	if bin, ok, err := runtime.Configured(name, path, args); ok {
		return bin, err
	}
	return runtime.LookPath(name, BinaryName(name), args, true)
}

// ShimV2 is the shim v2 family: io.containerd.<rt>.<ver> names, each run by the resolved
// containerd-shim-<rt>-<ver> binary with the options the request carries.
// A container log is written by corral-shim as the shim's binary:// logger, which relays the output to
// the client's FIFOs too. containerd's shims give such a logger no terminal and the container no stdin,
// so a container with either keeps no log on this family.
func (r *Runtime) ShimV2() *Family {
	f := r.Family("shim v2", IsV2Name, ResolveShim, shimFeatures, func(o runtime.CreateOpts) (runtime.CreateOpts, error) {
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
	f.foreign = true
	return f
}

// shimFeatures are those of containerd's runc shims (io.containerd.runc.<ver>), which run runc from
// $PATH: runc's recursive read-only mounts, and user namespaces (corrald idmaps the layers the 1.6
// shim mounts, see idmap.go). corrald cannot ask other shims.
func shimFeatures(ctx context.Context, bin runtime.Binary) runtime.Features {
	if !strings.HasPrefix(bin.Name, "io.containerd.runc.") {
		return runtime.Features{NoRecursiveReadOnly: "corrald cannot ask shim v2 " + BinaryName(bin.Name) + " for its runtime's features"}
	}
	f := runtime.RuncFeatures(ctx, "runc")
	f.UserNamespaces = true
	return f
}

// Update changes the task's resources, unless res is nil, and passes the annotations on. A
// containerd shim is asked for no keeper.AnnotationReopenLog: it keeps no log it could reopen.
func (f *Family) Update(ctx context.Context, t runtime.Task, res *specs.LinuxResources, annotations map[string]string) error {
	if f.foreign && annotations[keeper.AnnotationReopenLog] != "" {
		return fmt.Errorf("runtime %s cannot reopen the log of task %s: %w", t.Runtime.Name, t.ID, errdefs.ErrNotImplemented)
	}
	return f.Runtime.Update(ctx, t, res, annotations)
}

// Detect reports whether the family runs the runtime name.
func (f *Family) Detect(name string) bool { return f.detect(name) }

// Create launches the task's shim and has it create the container. A containerd shim gets an
// idmapped rootfs's layers mounted idmapped (idmapLayers) while it creates the task.
func (f *Family) Create(ctx context.Context, o runtime.CreateOpts) (uint32, error) {
	o, err := f.launch(o)
	if err != nil {
		return 0, err
	}
	if f.foreign {
		var done func()
		if o.Rootfs, done, err = idmapLayers(o.Bundle, o.Rootfs); err != nil {
			return 0, err
		}
		defer done()
	}
	return f.create(ctx, o)
}

// InstalledShims returns the io.containerd.<rt>.<ver> names of the shim v2 binaries on $PATH and
// next to corrald. A directory is read again only when its modification time changed.
func InstalledShims() []string {
	dirs := filepath.SplitList(os.Getenv("PATH"))
	if self, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(self))
	}
	var out []string
	for _, dir := range dirs {
		out = append(out, shimDirs.names(dir)...)
	}
	return out
}

// shimDirs caches, per directory, the shim v2 names it held at a modification time.
var shimDirs = &shimCache{dirs: map[string]shimDir{}}

type shimCache struct {
	mu   sync.Mutex
	dirs map[string]shimDir
}

type shimDir struct {
	mtime time.Time
	names []string
}

// names returns the shim v2 names in dir, reading it only if it changed since the last call.
func (c *shimCache) names(dir string) []string {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.dirs[dir]; ok && d.mtime.Equal(fi.ModTime()) {
		return d.names
	}
	var names []string
	matches, _ := filepath.Glob(filepath.Join(dir, "containerd-shim-*-*"))
	for _, m := range matches {
		if name, ok := NameOf(filepath.Base(m)); ok && runtime.IsExecutable(m) {
			names = append(names, name)
		}
	}
	c.dirs[dir] = shimDir{mtime: fi.ModTime(), names: names}
	return names
}
