package shim

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/engine/lcr"
)

// writeLXCConfig translates the spec into the LXC config <dir>/LXCPath/<id>/config and returns
// what the lxc driver runs. A spec field LXC cannot express fails here, naming the field.
func writeLXCConfig(dir string, c *Config, spec *specs.Spec, h *lcr.Hierarchies) (*LXCConfig, error) {
	confDir := filepath.Join(dir, LXCPath, c.ID)
	seccomp := filepath.Join(confDir, "seccomp")
	cfg, err := lcr.Translate(spec, lcr.TranslateOpts{CgroupV2: h.V2(), CgroupDir: path.Join("corral", c.Namespace, c.ID), SeccompPath: seccomp})
	if err != nil {
		return nil, fmt.Errorf("failed to translate the spec into an LXC config: %w", err)
	}
	cgroup := cfg.Value("lxc.cgroup.dir.container")
	if err := freeCgroups(h, cgroup); err != nil {
		return nil, err
	}
	if err := lcr.CheckCommand(spec); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(confDir, 0o700); err != nil {
		return nil, err
	}
	if cfg.Seccomp != "" {
		if err := os.WriteFile(seccomp, []byte(cfg.Seccomp), 0o600); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(confDir, "config"), cfg.Marshal(), 0o600); err != nil {
		return nil, err
	}
	return &LXCConfig{Name: c.ID, Args: spec.Process.Args, Cgroup: cgroup}, nil
}

// freeCgroups makes sure LXC can create the container's cgroup and its monitor's: it will not
// reuse one. Empty ones, which a container killed with its monitor leaves, are removed; ones with
// processes belong to a running container.
func freeCgroups(h *lcr.Hierarchies, dir string) error {
	for _, d := range []string{dir, dir + lcr.MonitorSuffix} {
		cg := h.Cgroup(d)
		pids, err := cg.Procs()
		if err != nil {
			return err
		}
		if len(pids) > 0 {
			return fmt.Errorf("cgroup %s is in use by processes %v (linux.cgroupsPath must be the container's own): %w", d, pids, errdefs.ErrAlreadyExists)
		}
		// Only a leaf is a leftover of ours; a tree may hold other users' cgroups.
		if nested, err := cg.HasChildren(); err != nil {
			return err
		} else if nested {
			return fmt.Errorf("cgroup %s exists and has child cgroups (linux.cgroupsPath must be the container's own): %w", d, errdefs.ErrAlreadyExists)
		}
		if err := cg.Remove(); err != nil {
			return err
		}
	}
	return nil
}
