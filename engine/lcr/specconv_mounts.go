package lcr

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runcMountOptions are options runc implements itself, which LXC does not know.
var runcMountOptions = setOf(`rro rrw rnosuid rsuid rnodev rdev rnoexec rexec rnodiratime rdiratime rrelatime
	rnorelatime rnoatime ratime rstrictatime rnostrictatime rnosymfollow rsymfollow nosymfollow symfollow
	tmpcopyup idmap ridmap recursive`)

// lxcOnlyOptions are LXC's own mount options, which the translation sets itself.
var lxcOnlyOptions = setOf(`create=dir create=file optional relative`)

// devptsOptions are those LXC mounts /dev/pts with (newinstance, ptmxmode=0666, mode=0620, gid=5,
// nosuid, noexec): a devpts mount asking for no others is LXC's own.
var devptsOptions = setOf(`nosuid noexec newinstance ptmxmode=0666 ptmxmode=666 mode=0620 mode=620 gid=5`)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// mounts writes lxc.mount.entry lines in spec order. /dev/pts (devpts) becomes LXC's own devpts
// instance and a cgroup filesystem at /sys/fs/cgroup LXC's cgroup automount; /dev stays LXC's
// autodev tmpfs, filled with the default device nodes, unless it is bind-mounted from the host.
func (t *translator) mounts() error {
	autodev, ptys := "1", "0"
	for i, m := range t.spec.Mounts {
		field := fmt.Sprintf("mounts[%d]", i)
		dest, err := destination(field+".destination", m.Destination)
		if err != nil {
			return err
		}
		if len(m.UIDMappings)+len(m.GIDMappings) > 0 {
			return unsupported(field+".uidMappings", "stock LXC has no idmapped mount entries for OCI mappings")
		}
		for j, o := range m.Options {
			if err := checkMountOption(fmt.Sprintf("%s.options[%d]", field, j), o); err != nil {
				return err
			}
		}
		switch {
		case m.Type == "devpts" && dest == "dev/pts":
			for j, o := range m.Options {
				if !devptsOptions[o] {
					return unsupported(fmt.Sprintf("%s.options[%d]", field, j), fmt.Sprintf("%q: LXC mounts /dev/pts itself with newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec", o))
				}
			}
			ptys = "1024"
			continue
		case m.Type == "cgroup" || m.Type == "cgroup2":
			if err := t.cgroupMount(field, dest, m.Options); err != nil {
				return err
			}
			continue
		}
		bind := hasOption(m.Options, "bind") || hasOption(m.Options, "rbind") || m.Type == "bind"
		if bind && dest == "dev" {
			autodev = "0"
		}
		entry, err := t.mountEntry(field, m, dest, bind)
		if err != nil {
			return err
		}
		t.c.add("lxc.mount.entry", entry)
	}
	t.c.add("lxc.autodev", autodev)
	t.c.add("lxc.pty.max", ptys)
	return nil
}

// mountEntry is the fstab line for m: a bind mount creates a directory or a file to mount on,
// matching its source; any other mount creates a directory.
func (t *translator) mountEntry(field string, m specs.Mount, dest string, bind bool) (string, error) {
	source, typ := m.Source, m.Type
	if typ == "" || bind {
		typ = "none"
	}
	if source == "" {
		source = "none"
	}
	if err := checkValue(field+".source", source); err != nil {
		return "", err
	}
	if err := checkValue(field+".type", typ); err != nil {
		return "", err
	}
	if strings.HasPrefix(source, "#") {
		return "", invalid(field+".source", fmt.Sprintf("%q must not start with '#', which would make the fstab line a comment", source))
	}
	create := "create=dir"
	if bind {
		if !path.IsAbs(source) {
			return "", invalid(field+".source", fmt.Sprintf("%q: a bind mount needs an absolute host path", source))
		}
		fi, err := t.o.Stat(source)
		if err != nil {
			return "", invalid(field+".source", fmt.Sprintf("cannot be bind-mounted: %v", err))
		}
		if !fi.IsDir() {
			create = "create=file"
		}
	}
	opts := append(append([]string(nil), m.Options...), create)
	return fstab(source, dest, typ, strings.Join(opts, ",")), nil
}

// cgroupMount turns a cgroup filesystem at /sys/fs/cgroup into lxc.mount.auto = cgroup:ro|rw.
func (t *translator) cgroupMount(field, dest string, opts []string) error {
	if dest != "sys/fs/cgroup" {
		return unsupported(field+".destination", "LXC mounts cgroup filesystems only at /sys/fs/cgroup")
	}
	mode := "rw"
	for j, o := range opts {
		switch o {
		case "ro":
			mode = "ro"
		case "rw", "nosuid", "noexec", "nodev", "relatime":
		default:
			return unsupported(fmt.Sprintf("%s.options[%d]", field, j), fmt.Sprintf("%q: LXC's cgroup mount takes only ro or rw", o))
		}
	}
	// :force, or LXC leaves the mount to a container that has CAP_SYS_ADMIN.
	t.c.add("lxc.mount.auto", "cgroup:"+mode+":force")
	return nil
}

// maskedPaths hides paths as runc does: a directory under a read-only tmpfs, a file under /dev/null.
// Paths under /proc and /sys are looked up on the host, others in the rootfs; missing ones are
// skipped, as runc skips them.
func (t *translator) maskedPaths() error {
	if t.spec.Linux == nil {
		return nil
	}
	for i, p := range t.spec.Linux.MaskedPaths {
		field := fmt.Sprintf("linux.maskedPaths[%d]", i)
		dest, err := destination(field, p)
		if err != nil {
			return err
		}
		host := "/" + dest
		if !strings.HasPrefix(host, "/proc/") && !strings.HasPrefix(host, "/sys/") {
			host = path.Join(t.spec.Root.Path, dest)
		}
		fi, err := t.o.Stat(host)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return invalid(field, fmt.Sprintf("cannot be looked up: %v", err))
		}
		if fi.IsDir() {
			t.c.add("lxc.mount.entry", fstab("tmpfs", dest, "tmpfs", "ro,optional"))
		} else {
			t.c.add("lxc.mount.entry", fstab("/dev/null", dest, "none", "bind,optional"))
		}
	}
	return nil
}

// readonlyPaths bind-mounts each path read-only onto itself ("relative": the source is in the rootfs).
func (t *translator) readonlyPaths() error {
	if t.spec.Linux == nil {
		return nil
	}
	for i, p := range t.spec.Linux.ReadonlyPaths {
		field := fmt.Sprintf("linux.readonlyPaths[%d]", i)
		dest, err := destination(field, p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(dest, "#") { // the source of the entry: the fstab line would be a comment
			return invalid(field, fmt.Sprintf("%q must not start with '#' under the rootfs, which would make the fstab line a comment", p))
		}
		t.c.add("lxc.mount.entry", fstab(dest, dest, "none", "bind,ro,relative,optional"))
	}
	return nil
}

// destination returns an absolute container path relative to the rootfs, as lxc.mount.entry wants it.
func destination(field, p string) (string, error) {
	if err := checkAbs(field, p); err != nil {
		return "", err
	}
	rel := strings.TrimPrefix(path.Clean(p), "/")
	if rel == "" {
		return "", invalid(field, "must not be / (mount a rootfs with root.path)")
	}
	return rel, nil
}

func checkMountOption(field, o string) error {
	if err := checkValue(field, o); err != nil {
		return err
	}
	switch {
	case o == "" || strings.ContainsAny(o, ", "):
		return invalid(field, fmt.Sprintf("%q must be one non-empty option without commas or spaces", o))
	case runcMountOptions[o]:
		return unsupported(field, fmt.Sprintf("%q is a runc extension LXC does not implement", o))
	case lxcOnlyOptions[o] || strings.HasPrefix(o, "idmap="):
		return invalid(field, fmt.Sprintf("%q is an LXC option the translation sets itself", o))
	}
	return nil
}

func hasOption(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}

// fstab joins the fields of an lxc.mount.entry, escaping what getmntent(3) decodes: a space as \040
// and a backslash as \134 (other control characters were rejected).
func fstab(source, dest, typ, opts string) string {
	esc := strings.NewReplacer(`\`, `\134`, " ", `\040`)
	return strings.Join([]string{esc.Replace(source), esc.Replace(dest), esc.Replace(typ), esc.Replace(opts), "0", "0"}, " ")
}
