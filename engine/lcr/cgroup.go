package lcr

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Hierarchies are the host's cgroup mounts: the mount point of each v1 hierarchy, by its controllers
// ("cpu,cpuacct", "memory", "name=systemd"), and of the unified (v2) hierarchy.
type Hierarchies struct {
	V1      map[string]string
	Unified string
}

// V2 reports whether the controllers are on the unified hierarchy: no v1 hierarchy has a controller.
// LXC then takes lxc.cgroup2.* keys.
func (h *Hierarchies) V2() bool {
	for opts := range h.V1 {
		if !strings.HasPrefix(opts, "name=") {
			return false
		}
	}
	return h.Unified != ""
}

// LoadHierarchies reads the cgroup mounts of this process's mount namespace.
func LoadHierarchies() (*Hierarchies, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseMountinfo(f)
}

// parseMountinfo reads the cgroup and cgroup2 mounts of a mountinfo file (proc(5)).
func parseMountinfo(r io.Reader) (*Hierarchies, error) {
	h := &Hierarchies{V1: map[string]string{}}
	s := bufio.NewScanner(r)
	for s.Scan() {
		pre, post, ok := strings.Cut(s.Text(), " - ")
		fields, super := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(super) < 3 {
			continue
		}
		mountPoint := unescapeMountinfo(fields[4])
		switch super[0] {
		case "cgroup2":
			if h.Unified == "" {
				h.Unified = mountPoint
			}
		case "cgroup":
			var ctrls []string
			for _, o := range strings.Split(super[2], ",") {
				if o != "rw" && o != "ro" && !strings.HasPrefix(o, "release_agent=") && o != "clone_children" && o != "noprefix" && o != "xattr" {
					ctrls = append(ctrls, o)
				}
			}
			if key := strings.Join(ctrls, ","); key != "" && h.V1[key] == "" {
				h.V1[key] = mountPoint
			}
		}
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	if len(h.V1) == 0 && h.Unified == "" {
		return nil, errors.New("no cgroup filesystem is mounted")
	}
	return h, nil
}

func unescapeMountinfo(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// Cgroup is a container's cgroup: Dir, relative to the root of every hierarchy, as
// lxc.cgroup.dir.container places it (lxc.cgroup.relative = 0).
type Cgroup struct {
	h   *Hierarchies
	Dir string
}

// Cgroup returns the cgroup dir in every hierarchy.
func (h *Hierarchies) Cgroup(dir string) *Cgroup { return &Cgroup{h: h, Dir: dir} }

// path is the cgroup's directory in the hierarchy holding controller (v1), or the unified one.
func (c *Cgroup) path(controller string) string {
	if c.h.V2() {
		return filepath.Join(c.h.Unified, c.Dir)
	}
	for opts, mnt := range c.h.V1 {
		for _, o := range strings.Split(opts, ",") {
			if o == controller {
				return filepath.Join(mnt, c.Dir)
			}
		}
	}
	return ""
}

// Procs lists the pids of the cgroup's processes; none if the cgroup does not exist.
func (c *Cgroup) Procs() ([]int, error) {
	for _, ctrl := range []string{"pids", "freezer", "memory", "cpu", "devices", "name=systemd"} {
		p := c.path(ctrl)
		if p == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return pids, nil
	}
	return nil, errors.New("no cgroup hierarchy lists processes")
}

// Frozen reports whether the cgroup is frozen or freezing (lxc-freeze).
func (c *Cgroup) Frozen() bool {
	if c.h.V2() {
		b, _ := os.ReadFile(filepath.Join(c.path("freezer"), "cgroup.freeze"))
		return strings.TrimSpace(string(b)) == "1"
	}
	b, _ := os.ReadFile(filepath.Join(c.path("freezer"), "freezer.state"))
	s := strings.TrimSpace(string(b))
	return s == "FROZEN" || s == "FREEZING"
}

// Thaw thaws a frozen cgroup directly, as lxc-unfreeze does through LXC's monitor.
func (c *Cgroup) Thaw() error {
	if c.h.V2() {
		return os.WriteFile(filepath.Join(c.path("freezer"), "cgroup.freeze"), []byte("0"), 0)
	}
	return os.WriteFile(filepath.Join(c.path("freezer"), "freezer.state"), []byte("THAWED"), 0)
}

// Remove removes the cgroup from every hierarchy where it is left, as when LXC's monitor was killed
// before it could. It fails if a process still runs in it.
func (c *Cgroup) Remove() error {
	var errs []error
	dirs := make([]string, 0, len(c.h.V1)+1)
	for _, mnt := range c.h.V1 {
		dirs = append(dirs, mnt)
	}
	if c.h.Unified != "" {
		dirs = append(dirs, c.h.Unified)
	}
	for _, mnt := range dirs {
		if err := removeTree(filepath.Join(mnt, c.Dir)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// HasChildren reports whether the cgroup has child cgroups in any hierarchy.
func (c *Cgroup) HasChildren() (bool, error) {
	dirs := make([]string, 0, len(c.h.V1)+1)
	for _, mnt := range c.h.V1 {
		dirs = append(dirs, mnt)
	}
	if c.h.Unified != "" {
		dirs = append(dirs, c.h.Unified)
	}
	for _, mnt := range dirs {
		entries, err := os.ReadDir(filepath.Join(mnt, c.Dir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return false, err
		}
		for _, e := range entries {
			if e.IsDir() {
				return true, nil
			}
		}
	}
	return false, nil
}

// removeTree removes a cgroup directory and the cgroups below it, deepest first.
func removeTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("failed to remove cgroup %s: %w", dir, err)
	}
	return nil
}
