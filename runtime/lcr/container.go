package lcr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/types/known/anypb"

	lxc "github.com/corral-dev/corral/engine/lcr"
	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/shim"
)

// container is what corrald needs to drive a task's LXC container itself: the keeper config, the
// tool driver and the container's cgroup.
type container struct {
	c   *shim.Config
	l   *lxc.LXC
	cg  *lxc.Cgroup
	pid int // the init's pid once started, else 0
}

func (r *Runtime) container(t runtime.Task) (*container, error) {
	if r.host == nil {
		return nil, fmt.Errorf("the lcr engine is not loaded: %w", errdefs.ErrFailedPrecondition)
	}
	dir := r.client(t).Dir
	c, err := shim.ReadConfig(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no keeper work dir for %s: %w", t.ID, errdefs.ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	if c.LXC == nil {
		return nil, fmt.Errorf("keeper of %s does not run LXC", t.ID)
	}
	ct := &container{c: c, l: r.host.LXC(filepath.Join(dir, shim.LXCPath), ""), cg: r.host.Cgroups.Cgroup(c.LXC.Cgroup)}
	if b, err := os.ReadFile(filepath.Join(dir, shim.InitPIDFile)); err == nil {
		ct.pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	return ct, nil
}

// running returns the task's container if it runs: started, and not yet exited.
func (r *Runtime) running(t runtime.Task) (*container, error) {
	ct, err := r.container(t)
	if err != nil {
		return nil, err
	}
	if ct.pid == 0 || r.client(t).Finished() {
		return nil, fmt.Errorf("task %s is not running: %w", t.ID, errdefs.ErrFailedPrecondition)
	}
	return ct, nil
}

// Pause runs lxc-freeze.
func (r *Runtime) Pause(ctx context.Context, t runtime.Task) error {
	ct, err := r.running(t)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.CallTimeout)
	defer cancel()
	return ct.l.Freeze(ctx, ct.c.LXC.Name)
}

// Resume runs lxc-unfreeze.
func (r *Runtime) Resume(ctx context.Context, t runtime.Task) error {
	ct, err := r.running(t)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.CallTimeout)
	defer cancel()
	return ct.l.Unfreeze(ctx, ct.c.LXC.Name)
}

// Pids lists the processes of the container's cgroup, LXC's init among them.
func (r *Runtime) Pids(ctx context.Context, t runtime.Task) ([]runtime.Process, error) {
	ct, err := r.container(t)
	if err != nil {
		return nil, err
	}
	pids, err := ct.cg.Procs()
	if err != nil {
		return nil, fmt.Errorf("failed to list the processes of %s: %w", t.ID, err)
	}
	ps := make([]runtime.Process, len(pids))
	for i, p := range pids {
		ps[i] = runtime.Process{Pid: uint32(p)}
	}
	return ps, nil
}

// Status reports the recorded exit, a keeper gone, a container not yet started, or the cgroup's
// freezer state.
func (r *Runtime) Status(ctx context.Context, t runtime.Task) (runtime.Status, error) {
	kc := r.client(t)
	if e, err := shim.ReadExit(kc.Dir); err == nil {
		return runtime.Status{Pid: e.Pid, State: runtime.Stopped}, nil
	}
	if !shim.Alive(kc.Dir) {
		return runtime.Status{State: runtime.Stopped}, nil
	}
	ct, err := r.container(t)
	if err != nil {
		return runtime.Status{State: runtime.Unknown}, err
	}
	switch {
	case ct.pid == 0:
		return runtime.Status{State: runtime.Created}, nil
	case ct.cg.Frozen():
		return runtime.Status{Pid: uint32(ct.pid), State: runtime.Paused}, nil
	}
	return runtime.Status{Pid: uint32(ct.pid), State: runtime.Running}, nil
}

// Stats reads the container's usage from its cgroups, as an engine.Stats in JSON.
func (r *Runtime) Stats(ctx context.Context, t runtime.Task) (*anypb.Any, error) {
	ct, err := r.running(t)
	if err != nil {
		return nil, err
	}
	s, err := ct.cg.Stats()
	if err != nil {
		return nil, fmt.Errorf("failed to read the cgroups of %s: %w", t.ID, err)
	}
	return runtime.Metrics{
		CPUTotal:    s.CPU.UsageNanos,
		MemoryUsage: s.Memory.Usage, MemoryMax: s.Memory.MaxUsage, MemoryLimit: s.Memory.Limit,
		PidsCurrent: s.Pids.Current, PidsLimit: s.Pids.Limit,
	}.Any()
}
