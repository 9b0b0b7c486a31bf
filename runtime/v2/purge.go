package v2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/engine/lcr"
	"github.com/corral-dev/corral/runtime"
)

// purge takes down what a create that a crash interrupted may leave with no shim to know of it:
// the runtime's state, through the shim's delete subcommand, and the container's cgroups, which a
// runtime killed in the middle of its create cannot name any more. The subcommand may fail for want
// of what the create never wrote; purge fails only while a process of the container may run.
func (r *Runtime) purge(ctx context.Context, t runtime.Task) error {
	_, derr := r.cleanup(ctx, t)
	if err := removeCgroups(t.Bundle); err != nil {
		return errors.Join(derr, err)
	}
	if derr != nil {
		log.G(ctx).WithError(derr).WithField("id", t.ID).Warn("the shim's delete failed; nothing of the container runs, going on")
	}
	return nil
}

// removeCgroups removes the cgroups the bundle's spec names, unless a process is in them. A spec
// with no cgroups path, or a systemd one, names none corrald can find.
func removeCgroups(bundle string) error {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil
	}
	var s specs.Spec
	if json.Unmarshal(b, &s) != nil || s.Linux == nil || s.Linux.CgroupsPath == "" || strings.Contains(s.Linux.CgroupsPath, ":") {
		return nil
	}
	h, err := lcr.LoadHierarchies()
	if err != nil {
		return fmt.Errorf("failed to find the cgroups of %s: %w", bundle, err)
	}
	cg := h.Cgroup(s.Linux.CgroupsPath)
	if pids, _ := cg.Procs(); len(pids) > 0 {
		return fmt.Errorf("failed to remove cgroup %s: processes %v still run in it: %w", s.Linux.CgroupsPath, pids, errdefs.ErrFailedPrecondition)
	}
	if err := cg.Remove(); err != nil {
		return fmt.Errorf("failed to remove cgroup %s: %w", s.Linux.CgroupsPath, err)
	}
	return nil
}
