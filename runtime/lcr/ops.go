package lcr

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	lxc "github.com/corral-dev/corral/engine/lcr"
	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/shim"
)

// Update writes the new limits to the running container's cgroups with lxc-cgroup.
func (r *Runtime) Update(ctx context.Context, t runtime.Task, res *specs.LinuxResources) error {
	if len(res.Devices) > 0 {
		return fmt.Errorf("linux.resources.devices cannot be updated: LXC sets device rules only at start: %w", errdefs.ErrNotImplemented)
	}
	ct, err := r.running(t)
	if err != nil {
		return err
	}
	settings, err := lxc.CgroupSettings(res, r.host.Cgroups.V2())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.CallTimeout)
	defer cancel()
	for _, s := range settings {
		if err := ct.l.CgroupSet(ctx, ct.c.LXC.Name, s.Key, s.Value); err != nil {
			return fmt.Errorf("failed to set %s of %s: %w", s.Key, t.ID, err)
		}
	}
	return nil
}

// Exec records an exec process, once lxc-attach can run it; Start has the keeper run it.
func (r *Runtime) Exec(ctx context.Context, o runtime.ExecOpts) error {
	if o.Terminal {
		return fmt.Errorf("terminal for exec %s with runtime %s: %w", o.ExecID, o.Runtime.Name, errdefs.ErrNotImplemented)
	}
	kc := r.client(o.Task)
	if !shim.Alive(kc.Dir) {
		return fmt.Errorf("task %s is not running: %w", o.ID, errdefs.ErrFailedPrecondition)
	}
	spec, err := readSpec(o.Bundle)
	if err != nil {
		return err
	}
	if err := lxc.CheckExec(o.Process, spec.Process); err != nil {
		return err
	}
	return r.Execs.Add(kc, shim.Request{Op: shim.OpExec, ExecID: o.ExecID, Process: o.Process,
		Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr})
}

// Delete forces the container down and lets its keeper record the exit, then removes what a
// keeper or LXC killed before their time leaves (processes, lxc-execute, cgroups) and the work dir,
// LXC config included. It is idempotent.
func (r *Runtime) Delete(ctx context.Context, t runtime.Task) error {
	r.Execs.Forget(r.client(t))
	kc := r.client(t)
	ct, err := r.container(t)
	if errdefs.IsNotFound(err) {
		return kc.Remove()
	} else if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.CallTimeout)
	defer cancel()
	if shim.Alive(kc.Dir) {
		_, _ = kc.Call(ctx, shim.Request{Op: shim.OpKill, Signal: int(unix.SIGKILL), All: true})
		_, _ = kc.Wait(ctx, "")
		shim.KillKeeper(kc.Dir)
	}
	mon := r.host.Cgroups.Cgroup(ct.c.LXC.Cgroup + lxc.MonitorSuffix)
	for _, cg := range []*lxc.Cgroup{ct.cg, mon} {
		if err := killCgroup(ctx, cg); err != nil {
			return fmt.Errorf("failed to delete container %s: %w", t.ID, err)
		}
	}
	if err := kc.Remove(); err != nil {
		return fmt.Errorf("failed to remove work dir of %s: %w", t.ID, err)
	}
	return nil
}

// killCgroup SIGKILLs the processes of a cgroup until there are none, then removes it.
func killCgroup(ctx context.Context, cg *lxc.Cgroup) error {
	for {
		pids, err := cg.Procs()
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return cg.Remove()
		}
		for _, p := range pids {
			_ = unix.Kill(p, unix.SIGKILL)
		}
		if cg.Frozen() {
			_ = cg.Thaw()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("processes %v of cgroup %s survived SIGKILL", pids, cg.Dir)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
