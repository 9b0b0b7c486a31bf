package shim

import (
	"context"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
	runc "github.com/containerd/go-runc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// pause runs `<runtime> pause`.
func (d *runcDriver) pause(ctx context.Context) error {
	return d.call(ctx, d.k.c.CallTimeout, "pause", func(ctx context.Context) error { return d.rt.Pause(ctx, d.k.c.ID) })
}

// resume runs `<runtime> resume`.
func (d *runcDriver) resume(ctx context.Context) error {
	return d.call(ctx, d.k.c.CallTimeout, "resume", func(ctx context.Context) error { return d.rt.Resume(ctx, d.k.c.ID) })
}

// update runs `<runtime> update --resources`.
func (d *runcDriver) update(ctx context.Context, r *specs.LinuxResources) error {
	return d.call(ctx, d.k.c.CallTimeout, "update", func(ctx context.Context) error { return d.rt.Update(ctx, d.k.c.ID, r) })
}

// pids runs `<runtime> ps`.
func (d *runcDriver) pids(ctx context.Context) (pids []int, err error) {
	err = d.call(ctx, d.k.c.CallTimeout, "ps", func(ctx context.Context) (err error) {
		pids, err = d.rt.Ps(ctx, d.k.c.ID)
		return err
	})
	return pids, err
}

// stats runs `<runtime> events --stats`.
func (d *runcDriver) stats(ctx context.Context) (*stats.Metrics, error) {
	var s *runc.Stats
	err := d.call(ctx, d.k.c.CallTimeout, "events --stats", func(ctx context.Context) (err error) {
		s, err = d.rt.Stats(ctx, d.k.c.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return runcMetrics(s), nil
}
