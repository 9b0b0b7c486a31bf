package lcr

import (
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultDevice is a device node LXC's autodev creates in /dev.
type defaultDevice struct {
	path         string
	major, minor int64
}

// autodevNodes are the nodes lxc.autodev creates (src/lxc/conf.c: lxc_devices).
var autodevNodes = []defaultDevice{
	{"/dev/full", 1, 7}, {"/dev/null", 1, 3}, {"/dev/random", 1, 8}, {"/dev/tty", 5, 0}, {"/dev/urandom", 1, 9}, {"/dev/zero", 1, 5},
}

// allowedDevices are the device cgroup rules runc adds after the spec's
// (libcontainer/specconv: AllowedDevices): mknod of any device, the default nodes, ptys and tun.
var allowedDevices = []string{
	"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:5 rwm", "c 1:9 rwm",
	"c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm",
}

// devices writes the device cgroup rules of the spec, then runc's default allowed devices, and checks
// that the spec asks for no device node LXC does not create.
func (t *translator) devices() error {
	if t.spec.Linux == nil {
		return nil
	}
	for i, d := range t.spec.Linux.Devices {
		if !isAutodevNode(d) && !lxcNodes[d.Path] {
			if err := t.hostDevice(fmt.Sprintf("linux.devices[%d]", i), d); err != nil {
				return err
			}
		}
	}
	if r := t.spec.Linux.Resources; r != nil {
		for i, d := range r.Devices {
			rule, err := deviceRule(fmt.Sprintf("linux.resources.devices[%d]", i), d)
			if err != nil {
				return err
			}
			key := "devices.deny"
			if d.Allow {
				key = "devices.allow"
			}
			t.c.add(t.cgroupKey(key), rule)
		}
	}
	for _, rule := range allowedDevices {
		t.c.add(t.cgroupKey("devices.allow"), rule)
	}
	return nil
}

// lxcNodes are the nodes LXC sets up itself: the ptmx of the container's devpts instance and the
// console; a host node mounted there would be in LXC's way.
var lxcNodes = setOf(`/dev/ptmx /dev/console`)

// hostDevice bind-mounts the host's node for d: LXC creates no device nodes but the default ones
// (autodev), so a device is only expressible when the host has the same node at the same path, as
// it has for a privileged container's host devices.
func (t *translator) hostDevice(field string, d specs.LinuxDevice) error {
	dest, err := destination(field+".path", d.Path)
	if err != nil {
		return err
	}
	other := fmt.Sprintf("stock LXC creates only %s and can otherwise only bind-mount the host's node at %s", autodevList(), d.Path)
	fi, err := t.o.Stat(d.Path)
	if err != nil {
		return unsupported(field, fmt.Sprintf("%s, which cannot be looked up: %v", other, err))
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	typ := map[fs.FileMode]string{fs.ModeDevice: "b", fs.ModeDevice | fs.ModeCharDevice: "c"}[fi.Mode().Type()]
	switch {
	case !ok || typ == "" || (typ != d.Type && !(d.Type == "u" && typ == "c")):
		return unsupported(field, fmt.Sprintf("%s, which is not a %q device", other, d.Type))
	case int64(unix.Major(uint64(st.Rdev))) != d.Major || int64(unix.Minor(uint64(st.Rdev))) != d.Minor:
		return unsupported(field, fmt.Sprintf("%s, which is device %d:%d, not %d:%d", other, unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)), d.Major, d.Minor))
	case d.FileMode != nil && d.FileMode.Perm() != fi.Mode().Perm(),
		d.UID != nil && *d.UID != st.Uid, d.GID != nil && *d.GID != st.Gid:
		return unsupported(field, fmt.Sprintf("%s, whose owner or mode differ from the spec's", other))
	}
	t.c.add("lxc.mount.entry", fstab(d.Path, dest, "none", "bind,create=file"))
	return nil
}

func isAutodevNode(d specs.LinuxDevice) bool {
	for _, n := range autodevNodes {
		if d.Path == n.path && d.Type == "c" && d.Major == n.major && d.Minor == n.minor {
			return true
		}
	}
	return false
}

func autodevList() string {
	paths := make([]string, len(autodevNodes))
	for i, n := range autodevNodes {
		paths[i] = n.path
	}
	return strings.Join(paths, ", ")
}

// deviceRule is a devices cgroup rule, "a" or "<c|b> <major|*>:<minor|*> <access>".
func deviceRule(field string, d specs.LinuxDeviceCgroup) (string, error) {
	access := d.Access
	if access == "" {
		access = "rwm"
	}
	if strings.Trim(access, "rwm") != "" || len(access) > 3 {
		return "", invalid(field+".access", fmt.Sprintf("%q must be letters of rwm", d.Access))
	}
	num := func(p *int64, what string) (string, error) {
		if p == nil || *p == -1 {
			return "*", nil
		}
		if *p < 0 {
			return "", invalid(field+"."+what, fmt.Sprintf("%d must be a device number or -1 for any", *p))
		}
		return fmt.Sprint(*p), nil
	}
	switch d.Type {
	case "", "a":
		if d.Major != nil || d.Minor != nil {
			return "", invalid(field, "a rule for all devices takes no major or minor number")
		}
		return "a", nil
	case "c", "b":
		major, err := num(d.Major, "major")
		if err != nil {
			return "", err
		}
		minor, err := num(d.Minor, "minor")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %s:%s %s", d.Type, major, minor, access), nil
	}
	return "", invalid(field+".type", fmt.Sprintf("%q is not a device type (accepted: a, c, b)", d.Type))
}
