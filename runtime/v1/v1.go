// Package v1 is the shim v1 runtime family: every runc-compatible runtime (runc, runsc, crun,
// kata-runtime or a configured binary) run by one corral-shim keeper per container.
package v1

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/shim"
)

// Runtime runs containers through corral-shim keepers.
type Runtime struct {
	shim.Keepers
}

var _ runtime.Ops = (*Runtime)(nil)

// New returns the shim v1 family.
func New(o shim.KeeperOpts) *Runtime {
	return &Runtime{Keepers: shim.Keepers{Unsupported: runtime.Unsupported{Family: "shim v1"}, KeeperOpts: o}}
}

// Detect accepts every name but lcr: shim v1 is the catch-all family, queried last.
func (*Runtime) Detect(name string) bool { return name != "" && !strings.EqualFold(name, "lcr") }

// client is corrald's side of the task's keeper.
func (r *Runtime) client(t runtime.Task) *shim.Client { return r.KeeperOf(t) }

func (r *Runtime) workDir(t runtime.Task) string { return r.client(t).Dir }

// Create writes the keeper's config to a fresh work dir and starts the keeper, which runs
// `<runtime> create`. On failure nothing is left behind.
func (r *Runtime) Create(ctx context.Context, o runtime.CreateOpts) (_ uint32, retErr error) {
	kc := r.client(o.Task)
	dir := kc.Dir
	if err := kc.MakeWorkDir(); err != nil {
		return 0, err
	}
	defer func() {
		if retErr != nil {
			_ = kc.Remove()
		}
	}()
	c := &shim.Config{
		Namespace: o.Namespace, ID: o.ID, Bundle: o.Bundle,
		Binary: o.Runtime.Path, Args: o.Runtime.Args,
		Socket: kc.Socket,
		Stdin:  o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr,
		CreateTimeout: r.CreateTimeout, IODrain: r.IODrain,
	}
	if o.Terminal {
		return 0, fmt.Errorf("terminal for runtime %s: %w", o.Runtime.Name, errdefs.ErrNotImplemented)
	}
	if err := shim.WriteConfig(dir, c); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.KeeperDeadline())
	defer cancel()
	return shim.Start(ctx, r.ShimBinary, dir)
}

// call runs one runtime invocation for t with the call timeout, surfacing the runtime's error line.
func (r *Runtime) call(ctx context.Context, t runtime.Task, f func(context.Context, *runc.Runc) error) error {
	dir := r.workDir(t)
	c, err := shim.ReadConfig(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no keeper work dir for %s: %w", t.ID, errdefs.ErrNotFound)
		}
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.CallTimeout)
	defer cancel()
	logPath := filepath.Join(dir, shim.RuntimeLog)
	from := shim.LogSize(logPath)
	if err := f(ctx, shim.Runtime(dir, c)); err != nil {
		if _, xerr := shim.ReadExit(dir); xerr == nil {
			return fmt.Errorf("process already finished: %w", errdefs.ErrNotFound)
		}
		return shim.RuntimeError(err, logPath, from)
	}
	return nil
}

// Start has the keeper run `<runtime> start` for the init, or `<runtime> exec` for an exec.
func (r *Runtime) Start(ctx context.Context, t runtime.Task, execID string) (uint32, error) {
	if execID != "" {
		return r.startExec(ctx, t, execID)
	}
	ctx, cancel := context.WithTimeout(ctx, r.CallTimeout)
	defer cancel()
	e, err := shim.Call(ctx, r.client(t).Socket, shim.Request{Op: shim.OpStart})
	return e.Pid, err
}

// Kill runs `<runtime> kill [--all]`, or has the keeper signal an exec.
func (r *Runtime) Kill(ctx context.Context, t runtime.Task, o runtime.KillOpts) error {
	if o.ExecID != "" {
		_, err := r.client(t).Call(ctx, shim.Request{Op: shim.OpKill, ExecID: o.ExecID, Signal: int(o.Signal)})
		return err
	}
	return r.call(ctx, t, func(ctx context.Context, rc *runc.Runc) error {
		return rc.Kill(ctx, t.ID, int(o.Signal), &runc.KillOpts{All: o.All})
	})
}

// Pause runs `<runtime> pause`.
func (r *Runtime) Pause(ctx context.Context, t runtime.Task) error {
	return r.call(ctx, t, func(ctx context.Context, rc *runc.Runc) error { return rc.Pause(ctx, t.ID) })
}

// Resume runs `<runtime> resume`.
func (r *Runtime) Resume(ctx context.Context, t runtime.Task) error {
	return r.call(ctx, t, func(ctx context.Context, rc *runc.Runc) error { return rc.Resume(ctx, t.ID) })
}

// Update runs `<runtime> update --resources`.
func (r *Runtime) Update(ctx context.Context, t runtime.Task, res *specs.LinuxResources) error {
	return r.call(ctx, t, func(ctx context.Context, rc *runc.Runc) error { return rc.Update(ctx, t.ID, res) })
}

// Pids runs `<runtime> ps`.
func (r *Runtime) Pids(ctx context.Context, t runtime.Task) ([]runtime.Process, error) {
	var pids []int
	err := r.call(ctx, t, func(ctx context.Context, rc *runc.Runc) (err error) {
		pids, err = rc.Ps(ctx, t.ID)
		return err
	})
	ps := make([]runtime.Process, len(pids))
	for i, p := range pids {
		ps[i] = runtime.Process{Pid: uint32(p)}
	}
	return ps, err
}

// Status reports the recorded exit, a gone keeper, or `<runtime> state`.
func (r *Runtime) Status(ctx context.Context, t runtime.Task) (runtime.Status, error) {
	dir := r.workDir(t)
	if e, err := shim.ReadExit(dir); err == nil {
		return runtime.Status{Pid: e.Pid, State: runtime.Stopped}, nil
	}
	if !shim.Alive(dir) {
		return runtime.Status{State: runtime.Stopped}, nil
	}
	var st *runc.Container
	err := r.call(ctx, t, func(ctx context.Context, rc *runc.Runc) (err error) {
		st, err = rc.State(ctx, t.ID)
		return err
	})
	if err != nil {
		return runtime.Status{State: runtime.Unknown}, err
	}
	return runtime.Status{Pid: uint32(st.Pid), State: runtime.State(st.Status)}, nil
}

// Delete forces the container down, lets its keeper record the exit, then removes the runtime's
// state and the work dir. It is idempotent.
func (r *Runtime) Delete(ctx context.Context, t runtime.Task) error {
	r.Execs.Forget(r.client(t))
	kc := r.client(t)
	dir := kc.Dir
	c, err := shim.ReadConfig(dir)
	if errors.Is(err, os.ErrNotExist) {
		return kc.Remove()
	}
	if err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	rc := shim.Runtime(dir, c)
	if shim.Alive(dir) {
		// Let the keeper record the exit; a runtime that cannot kill (runsc refuses a created
		// container) or a keeper that does not answer is no reason to wait: delete --force below.
		kctx, cancel := context.WithTimeout(ctx, r.CallTimeout)
		if rc.Kill(kctx, t.ID, 9, &runc.KillOpts{All: true}) == nil {
			_, _ = kc.Wait(kctx, "")
		}
		cancel()
		shim.KillKeeper(dir)
	}
	// The keeper deletes the runtime's state before it records the exit: delete only what is left.
	if stateExists(dir, t.ID) {
		dctx, cancel := context.WithTimeout(ctx, r.CallTimeout)
		defer cancel()
		from := shim.LogSize(filepath.Join(dir, shim.RuntimeLog))
		if err := rc.Delete(dctx, t.ID, &runc.DeleteOpts{Force: true}); err != nil && stateExists(dir, t.ID) {
			return fmt.Errorf("runtime state: %w", shim.RuntimeError(err, filepath.Join(dir, shim.RuntimeLog), from))
		}
	}
	if err := kc.Remove(); err != nil {
		return fmt.Errorf("failed to remove work dir of %s: %w", t.ID, err)
	}
	return nil
}

// stateExists reports whether the runtime keeps any state in the container's --root.
func stateExists(dir, id string) bool {
	entries, err := os.ReadDir(filepath.Join(dir, shim.RuntimeRoot))
	return err == nil && len(entries) > 0
}

// Stats runs `<runtime> events --stats` and returns the usage as containerd's cgroup metrics.
func (r *Runtime) Stats(ctx context.Context, t runtime.Task) (*anypb.Any, error) {
	var s *runc.Stats
	err := r.call(ctx, t, func(ctx context.Context, rc *runc.Runc) (err error) {
		s, err = rc.Stats(ctx, t.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return runtime.Metrics{
		CPUTotal: s.Cpu.Usage.Total, CPUKernel: s.Cpu.Usage.Kernel, CPUUser: s.Cpu.Usage.User, CPUPerCPU: s.Cpu.Usage.Percpu,
		MemoryUsage: s.Memory.Usage.Usage, MemoryMax: s.Memory.Usage.Max, MemoryLimit: s.Memory.Usage.Limit, MemoryCache: s.Memory.Cache,
		PidsCurrent: s.Pids.Current, PidsLimit: s.Pids.Limit,
	}.Any()
}
