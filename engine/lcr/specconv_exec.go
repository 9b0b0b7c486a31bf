package lcr

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// CheckExec checks that lxc-attach can run the exec process p in a container whose process is init.
// lxc-attach gives every process the container's capabilities, no_new_privs and LSM labels, and no
// supplementary groups; an exec asking for others cannot be expressed (its own gid, which containerd
// lists among them, is none). Rlimits and the OOM score are
// applied by the caller, the working directory through lxc-attach's own (AttachOpts.Dir).
func CheckExec(p, init *specs.Process) error {
	switch {
	case len(p.Args) == 0:
		return invalid("process.args", "must name the command to run")
	case p.Cwd != "" && !strings.HasPrefix(p.Cwd, "/"):
		return invalid("process.cwd", fmt.Sprintf("%q must be an absolute path", p.Cwd))
	case slices.ContainsFunc(p.User.AdditionalGids, func(g uint32) bool { return g != p.User.GID }):
		return unsupported("process.user.additionalGids", "stock lxc-attach sets no supplementary groups")
	case p.User.Umask != nil:
		return unsupported("process.user.umask", "lxc-attach sets no umask")
	case p.Scheduler != nil || p.IOPriority != nil || p.ExecCPUAffinity != nil:
		return unsupported("process.scheduler", "lxc-attach sets no scheduling policy, I/O priority or CPU affinity")
	case p.NoNewPrivileges != init.NoNewPrivileges:
		return unsupported("process.noNewPrivileges", "lxc-attach applies the container's no_new_privs")
	case p.ApparmorProfile != init.ApparmorProfile:
		return unsupported("process.apparmorProfile", "lxc-attach applies the container's AppArmor profile")
	case p.SelinuxLabel != init.SelinuxLabel:
		return unsupported("process.selinuxLabel", "lxc-attach applies the container's SELinux label")
	}
	for i, e := range p.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" || strings.ContainsRune(e, 0) {
			return invalid(fmt.Sprintf("process.env[%d]", i), fmt.Sprintf("%q must have the form NAME=VALUE", e))
		}
	}
	for i, a := range p.Args {
		if strings.ContainsRune(a, 0) {
			return invalid(fmt.Sprintf("process.args[%d]", i), "contains a NUL byte")
		}
	}
	if p.Capabilities != nil && init.Capabilities != nil {
		c, ic := p.Capabilities, init.Capabilities
		if len(c.Ambient)+len(c.Inheritable) > 0 || !sameSet(c.Bounding, ic.Bounding) {
			return unsupported("process.capabilities", "lxc-attach gives an exec the container's capabilities")
		}
	}
	return nil
}

func sameSet(a, b []string) bool {
	set := func(xs []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	return maps.Equal(set(a), set(b))
}
