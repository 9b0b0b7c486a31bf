package lcr

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/engine"
)

// Name is the engine's name.
const Name = "lcr"

// Tools are the LXC tools the engine runs.
var Tools = []string{"lxc-execute", "lxc-attach", "lxc-info", "lxc-freeze", "lxc-unfreeze", "lxc-cgroup"}

// Host is the loaded engine: where the LXC tools are and how the host's cgroups are mounted.
type Host struct {
	// Dir is the directory of the LXC tools.
	Dir string
	// Cgroups are the host's cgroup hierarchies.
	Cgroups *Hierarchies
}

// Load loads the lcr engine at corrald start: it finds the LXC tools on $PATH (all in one directory),
// reads their version and the host's cgroup mounts. If LXC cannot run here, the Engine's
// Unavailable says why (an errdefs.ErrFailedPrecondition), and the Host is nil.
func Load(ctx context.Context) (*Host, engine.Engine) {
	e := engine.Engine{Name: Name}
	h, version, err := load(ctx, exec.LookPath)
	if err != nil {
		e.Unavailable = fmt.Errorf("the lcr engine cannot run LXC containers: %w", err)
		return nil, e
	}
	e.Version = version
	return h, e
}

func load(ctx context.Context, lookPath func(string) (string, error)) (*Host, string, error) {
	first, err := lookPath(Tools[0])
	if err != nil {
		return nil, "", fmt.Errorf("%s is not on $PATH (install LXC, e.g. apt-get install lxc): %w", Tools[0], errdefs.ErrFailedPrecondition)
	}
	dir := filepath.Dir(first)
	for _, tool := range Tools[1:] {
		p, err := lookPath(tool)
		if err != nil || filepath.Dir(p) != dir {
			return nil, "", fmt.Errorf("%s is not on $PATH next to %s (install LXC, e.g. apt-get install lxc): %w", tool, first, errdefs.ErrFailedPrecondition)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, first, "--version")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, "", fmt.Errorf("%s --version failed: %v: %s: %w", first, err, strings.TrimSpace(out.String()), errdefs.ErrFailedPrecondition)
	}
	version := strings.TrimSpace(out.String())
	if err := checkVersion(version); err != nil {
		return nil, "", err
	}
	cg, err := LoadHierarchies()
	if err != nil {
		return nil, "", fmt.Errorf("failed to read the host's cgroup mounts: %v: %w", err, errdefs.ErrFailedPrecondition)
	}
	return &Host{Dir: dir, Cgroups: cg}, version, nil
}

// checkVersion accepts LXC 5.0 and later, which added keys the translation writes
// (lxc.cgroup.dir.container, lxc.init.groups, lxc.time.offset.*).
func checkVersion(v string) error {
	var major int
	if _, err := fmt.Sscanf(v, "%d.", &major); err != nil {
		return fmt.Errorf("cannot read the LXC version %q: %w", v, errdefs.ErrFailedPrecondition)
	}
	if major < 5 {
		return fmt.Errorf("LXC %s is too old: the lcr engine needs LXC 5.0 or later: %w", v, errdefs.ErrFailedPrecondition)
	}
	return nil
}

// LXC returns the tool driver for the containers of lxcpath, logging to logFile.
func (h *Host) LXC(lxcpath, logFile string) *LXC {
	return &LXC{Path: lxcpath, Dir: h.Dir, LogFile: logFile}
}
