package lcr

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TranslateOpts are what the OCI → LXC translation needs besides the spec.
type TranslateOpts struct {
	// CgroupV2 selects unified-hierarchy keys (lxc.cgroup2.*) for resources, else cgroup v1 keys.
	CgroupV2 bool
	// CgroupDir is the container's cgroup, relative to the roots of the hierarchies, when the spec
	// sets no linux.cgroupsPath.
	CgroupDir string
	// Stat stats host paths: bind mount sources (to create a directory or a file to mount on) and
	// masked paths (a directory is masked with a tmpfs, a file with /dev/null). Nil means os.Stat.
	Stat func(name string) (fs.FileInfo, error)
	// SeccompPath is where the runtime writes Config.Seccomp, the seccomp policy lxc.seccomp.profile
	// loads. A spec with linux.seccomp needs it.
	SeccompPath string
}

// translator accumulates the config while it walks the spec.
type translator struct {
	o    TranslateOpts
	spec *specs.Spec
	c    Config
	ns   map[specs.LinuxNamespaceType]string // namespaces of the spec: type → path ("" = a new one)
}

// Translate returns the LXC configuration that runs spec with lxc-execute: rootfs, hostname,
// namespaces, process (env, cwd, user and groups, capabilities, rlimits, no_new_privs, LSM labels,
// OOM score), mounts with masked and read-only paths, sysctls, cgroup limits and device rules, host
// device nodes, and the seccomp policy (Config.Seccomp).
// A field LXC cannot express is an error naming the field (errdefs.ErrNotImplemented), an invalid
// value one naming the field and what is accepted (errdefs.ErrInvalidArgument); nothing is dropped.
// The process's args are not part of the config: lxc-execute takes them on its command line.
func Translate(spec *specs.Spec, o TranslateOpts) (*Config, error) {
	if o.Stat == nil {
		o.Stat = os.Stat
	}
	t := &translator{o: o, spec: spec, ns: map[specs.LinuxNamespaceType]string{}}
	for _, step := range []func() error{
		t.platform, t.namespaces, t.root, t.hostname, t.terminal, t.cgroupDir, t.process,
		t.mounts, t.maskedPaths, t.readonlyPaths, t.sysctls, t.resources, t.devices, t.linuxOther, t.hooks,
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return &t.c, nil
}

// platform rejects the sections of other platforms and the fields LXC has no key for.
func (t *translator) platform() error {
	s := t.spec
	switch {
	case s.Solaris != nil:
		return unsupported("solaris", "it configures another platform")
	case s.Windows != nil:
		return unsupported("windows", "it configures another platform")
	case s.VM != nil:
		return unsupported("vm", "it configures a virtual-machine runtime")
	case s.ZOS != nil:
		return unsupported("zos", "it configures another platform")
	case s.FreeBSD != nil:
		return unsupported("freebsd", "it configures another platform")
	case s.Domainname != "":
		return unsupported("domainname", "LXC sets only the hostname (lxc.uts.name)")
	}
	return nil
}

// lxcNamespaces maps OCI namespace types to LXC's names.
var lxcNamespaces = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace: "pid", specs.NetworkNamespace: "net", specs.MountNamespace: "mnt", specs.IPCNamespace: "ipc",
	specs.UTSNamespace: "uts", specs.UserNamespace: "user", specs.CgroupNamespace: "cgroup", specs.TimeNamespace: "time",
}

// namespaces: new ones are cloned (lxc.namespace.clone lists them all, so the others stay the host's),
// ones with a path are joined (lxc.namespace.share.<ns>).
func (t *translator) namespaces() error {
	var linux specs.Linux
	if t.spec.Linux != nil {
		linux = *t.spec.Linux
	}
	var clone []string
	for i, n := range linux.Namespaces {
		field := fmt.Sprintf("linux.namespaces[%d]", i)
		name, ok := lxcNamespaces[n.Type]
		if !ok {
			return invalid(field+".type", fmt.Sprintf("%q is not a namespace type (accepted: pid, network, mount, ipc, uts, user, cgroup, time)", n.Type))
		}
		if _, dup := t.ns[n.Type]; dup {
			return invalid(field+".type", fmt.Sprintf("repeats the %s namespace", n.Type))
		}
		t.ns[n.Type] = n.Path
		if n.Path == "" {
			clone = append(clone, name)
			continue
		}
		if err := checkAbs(field+".path", n.Path); err != nil {
			return err
		}
		if n.Type == specs.MountNamespace {
			return unsupported(field+".path", "LXC always gives the container a mount namespace of its own")
		}
		t.c.add("lxc.namespace.share."+name, n.Path)
	}
	if p, ok := t.ns[specs.MountNamespace]; !ok || p != "" {
		return unsupported("linux.namespaces", "LXC needs a new mount namespace (type mount, no path)")
	}
	t.c.add("lxc.namespace.clone", strings.Join(clone, " "))
	switch p, ok := t.ns[specs.NetworkNamespace]; {
	case !ok:
		t.c.add("lxc.net.0.type", "none") // the host's network
	case p == "":
		t.c.add("lxc.net.0.type", "empty") // loopback only
	}
	return t.idmaps(linux)
}

// idmaps writes the user namespace's id mappings.
func (t *translator) idmaps(linux specs.Linux) error {
	_, userns := t.ns[specs.UserNamespace]
	if !userns {
		if len(linux.UIDMappings)+len(linux.GIDMappings) > 0 {
			return invalid("linux.uidMappings", "needs a user namespace in linux.namespaces")
		}
		return nil
	}
	if t.ns[specs.UserNamespace] == "" && (len(linux.UIDMappings) == 0 || len(linux.GIDMappings) == 0) {
		return invalid("linux.uidMappings", "and linux.gidMappings are required with a new user namespace")
	}
	for _, ids := range []struct {
		kind, field string
		maps        []specs.LinuxIDMapping
	}{{"u", "linux.uidMappings", linux.UIDMappings}, {"g", "linux.gidMappings", linux.GIDMappings}} {
		for i, m := range ids.maps {
			if m.Size == 0 {
				return invalid(fmt.Sprintf("%s[%d].size", ids.field, i), "must not be 0")
			}
			t.c.add("lxc.idmap", fmt.Sprintf("%s %d %d %d", ids.kind, m.ContainerID, m.HostID, m.Size))
		}
	}
	return nil
}

// remountReadonly is the LXC mount hook, run by /bin/sh in the container's mount namespace after
// the mounts and before pivot_root, that makes the rootfs read-only, not the mounts on it.
const remountReadonly = "/bin/mount -o remount,bind,ro $LXC_ROOTFS_MOUNT"

// root is the rootfs: a host directory, read-only if asked.
func (t *translator) root() error {
	r := t.spec.Root
	if r == nil || r.Path == "" {
		return invalid("root.path", "must name the rootfs directory")
	}
	if err := checkAbs("root.path", r.Path); err != nil {
		return err
	}
	t.c.add("lxc.rootfs.path", "dir:"+r.Path)
	if r.Readonly {
		// As runc does, the rootfs is made read-only once everything is mounted on it: with
		// lxc.rootfs.options ro, LXC could not make the mount points the spec's mounts need.
		t.c.add("lxc.hook.version", "1") // the hook gets no arguments, LXC_* variables instead
		t.c.add("lxc.hook.mount", remountReadonly)
	}
	if t.spec.Linux != nil {
		switch p := t.spec.Linux.RootfsPropagation; p {
		case "", "slave", "rslave": // what LXC does: the host's mounts propagate into the container
		default:
			return unsupported("linux.rootfsPropagation", fmt.Sprintf("%q: LXC always makes the container's mounts recursive slaves of the host's (accepted: slave, rslave)", p))
		}
	}
	return nil
}

func (t *translator) hostname() error {
	h := t.spec.Hostname
	if h == "" {
		return nil
	}
	if p, ok := t.ns[specs.UTSNamespace]; !ok || p != "" {
		return invalid("hostname", "needs a new uts namespace in linux.namespaces")
	}
	if err := checkValue("hostname", h); err != nil {
		return err
	}
	t.c.add("lxc.uts.name", h)
	return nil
}

// terminal: without process.terminal the container's stdio are the keeper's pipes and LXC allocates
// no console. With it, lxc-execute's stdio are the slave of a pty the keeper holds, and LXC gives the
// command a console from the container's own devpts, proxied to it. ptys are allowed so that
// lxc-attach can give an exec a terminal too. LXC allocates no ttys.
func (t *translator) terminal() error {
	if t.spec.Process == nil || !t.spec.Process.Terminal {
		t.c.add("lxc.console.path", "none")
	}
	t.c.add("lxc.tty.max", "0")
	t.c.add("lxc.pty.max", "64")
	return nil
}

// MonitorSuffix names the cgroup of LXC's monitor (lxc-execute) after the container's.
const MonitorSuffix = ".monitor"

// cgroupDir places the container's cgroup (and the LXC monitor's, beside it) at linux.cgroupsPath or
// at the default directory, relative to the roots of the hierarchies.
func (t *translator) cgroupDir() error {
	dir, field := t.o.CgroupDir, "cgroup directory"
	if t.spec.Linux != nil && t.spec.Linux.CgroupsPath != "" {
		dir, field = t.spec.Linux.CgroupsPath, "linux.cgroupsPath"
	}
	if strings.Contains(dir, ":") {
		return unsupported(field, fmt.Sprintf("%q is a systemd slice:prefix:name; LXC takes a cgroup directory", dir))
	}
	rel := strings.Trim(dir, "/")
	if err := checkValue(field, rel); err != nil {
		return err
	}
	if rel == "" || path.Clean(rel) != rel || rel == ".." || strings.HasPrefix(rel, "../") {
		return invalid(field, fmt.Sprintf("%q must be a clean cgroup directory such as /default/c1", dir))
	}
	t.c.add("lxc.cgroup.relative", "0")
	t.c.add("lxc.cgroup.dir.container", rel)
	t.c.add("lxc.cgroup.dir.monitor", rel+MonitorSuffix)
	return nil
}
