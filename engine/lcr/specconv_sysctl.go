package lcr

import (
	"fmt"
	"path"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// sysctls writes namespaced sysctls only: one that is not would change the host.
func (t *translator) sysctls() error {
	if t.spec.Linux == nil || len(t.spec.Linux.Sysctl) == 0 {
		return nil
	}
	names := make([]string, 0, len(t.spec.Linux.Sysctl))
	for k := range t.spec.Linux.Sysctl {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		field := "linux.sysctl[" + k + "]"
		if !validKeyPart(k) {
			return invalid(field, "is not a sysctl name (letters, digits and . _ - only)")
		}
		if err := t.sysctlNamespace(field, k); err != nil {
			return err
		}
		proc := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		v := t.spec.Linux.Sysctl[k]
		if err := checkValue(field, v); err != nil {
			return err
		}
		if t.hidden(proc) {
			// LXC writes lxc.sysctl.* through the container's /proc after its mounts, where /proc/sys
			// is read-only. A mount hook runs in the container's namespaces before pivot_root, with
			// the host's writable /proc; the "#" comments out the arguments LXC appends to a hook.
			t.c.add("lxc.hook.mount", fmt.Sprintf("printf %%s %s >%s #", shellQuote(v), proc))
			continue
		}
		t.c.add("lxc.sysctl."+k, v)
	}
	return nil
}

// ipcSysctls are the IPC namespace's sysctls outside fs.mqueue.
var ipcSysctls = setOf(`kernel.msgmax kernel.msgmnb kernel.msgmni kernel.sem kernel.shmall kernel.shmmax kernel.shmmni kernel.shm_rmid_forced`)

// sysctlNamespace checks that sysctl k belongs to a namespace the container does not share with the
// host, as runc checks.
func (t *translator) sysctlNamespace(field, k string) error {
	var ns specs.LinuxNamespaceType
	switch {
	case ipcSysctls[k] || strings.HasPrefix(k, "fs.mqueue."):
		ns = specs.IPCNamespace
	case strings.HasPrefix(k, "net."):
		ns = specs.NetworkNamespace
	case k == "kernel.hostname" || k == "kernel.domainname":
		ns = specs.UTSNamespace
	default:
		return invalid(field, "is not namespaced: setting it would change the host")
	}
	if _, ok := t.ns[ns]; !ok {
		return invalid(field, fmt.Sprintf("needs a %s namespace in linux.namespaces", ns))
	}
	return nil
}

// hidden says whether the container's proc path is under a masked or read-only path.
func (t *translator) hidden(proc string) bool {
	for _, ro := range append(append([]string(nil), t.spec.Linux.ReadonlyPaths...), t.spec.Linux.MaskedPaths...) {
		if ro = path.Clean(ro); proc == ro || strings.HasPrefix(proc, strings.TrimSuffix(ro, "/")+"/") {
			return true
		}
	}
	return false
}

// shellQuote quotes s for /bin/sh, which runs LXC's hooks.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
