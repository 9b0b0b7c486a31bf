package shim

import (
	"context"
	"fmt"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/engine/lcr"
)

// running fails unless lxc-execute runs the container.
func (d *lxcDriver) running() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state != lxcStarted {
		return fmt.Errorf("container %s is not running: %w", d.c.Name, errdefs.ErrFailedPrecondition)
	}
	return nil
}

// pause runs lxc-freeze.
func (d *lxcDriver) pause(ctx context.Context) error {
	if err := d.running(); err != nil {
		return err
	}
	return bounded(ctx, d.k.c.CallTimeout, "lxc-freeze", "pause", func(ctx context.Context) error { return d.l.Freeze(ctx, d.c.Name) })
}

// resume runs lxc-unfreeze.
func (d *lxcDriver) resume(ctx context.Context) error {
	if err := d.running(); err != nil {
		return err
	}
	return bounded(ctx, d.k.c.CallTimeout, "lxc-unfreeze", "resume", func(ctx context.Context) error { return d.l.Unfreeze(ctx, d.c.Name) })
}

// update writes the new limits to the running container's cgroups with lxc-cgroup.
func (d *lxcDriver) update(ctx context.Context, r *specs.LinuxResources) error {
	if len(r.Devices) > 0 {
		return fmt.Errorf("linux.resources.devices cannot be updated: LXC sets device rules only at start: %w", errdefs.ErrNotImplemented)
	}
	if err := d.running(); err != nil {
		return err
	}
	h, err := lcr.LoadHierarchies()
	if err != nil {
		return err
	}
	settings, err := lcr.CgroupSettings(r, h.V2())
	if err != nil {
		return err
	}
	return bounded(ctx, d.k.c.CallTimeout, "lxc-cgroup", "update", func(ctx context.Context) error {
		for _, s := range settings {
			if err := d.l.CgroupSet(ctx, d.c.Name, s.Key, s.Value); err != nil {
				return fmt.Errorf("failed to set %s of %s: %w", s.Key, d.c.Name, err)
			}
		}
		return nil
	})
}

// pids lists the processes of the container's cgroup, LXC's init among them.
func (d *lxcDriver) pids(context.Context) ([]int, error) {
	pids, err := d.cg.Procs()
	if err != nil {
		return nil, fmt.Errorf("failed to list the processes of %s: %w", d.c.Name, err)
	}
	return pids, nil
}

// stats reads the container's usage from its cgroups.
func (d *lxcDriver) stats(context.Context) (*stats.Metrics, error) {
	if err := d.running(); err != nil {
		return nil, err
	}
	s, err := d.cg.Stats()
	if err != nil {
		return nil, fmt.Errorf("failed to read the cgroups of %s: %w", d.c.Name, err)
	}
	return lxcMetrics(s), nil
}
