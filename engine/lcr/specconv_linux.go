package lcr

import (
	"fmt"
	"path"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// linuxOther rejects the linux fields LXC has no key for.
func (t *translator) linuxOther() error {
	l := t.spec.Linux
	if l == nil {
		return nil
	}
	switch {
	case len(l.NetDevices) > 0:
		return unsupported("linux.netDevices", "LXC moves network devices only through lxc.net.* network types")
	case l.IntelRdt != nil:
		return unsupported("linux.intelRdt", "LXC has no resctrl support")
	case l.MemoryPolicy != nil:
		return unsupported("linux.memoryPolicy", "LXC has no NUMA memory policy key")
	case l.MountLabel != "":
		return unsupported("linux.mountLabel", "LXC has no SELinux mount label key")
	}
	if l.Seccomp != nil {
		if err := t.seccomp(); err != nil {
			return err
		}
	}
	if l.Personality != nil {
		if err := t.personality(l.Personality); err != nil {
			return err
		}
	}
	return t.timeOffsets(l.TimeOffsets)
}

func (t *translator) personality(p *specs.LinuxPersonality) error {
	if len(p.Flags) > 0 {
		return unsupported("linux.personality.flags", "lxc.arch sets only the execution domain")
	}
	switch p.Domain {
	case specs.PerLinux:
		t.c.add("lxc.arch", "linux64")
	case specs.PerLinux32:
		t.c.add("lxc.arch", "linux32")
	default:
		return invalid("linux.personality.domain", fmt.Sprintf("%q is not a domain (accepted: LINUX, LINUX32)", p.Domain))
	}
	return nil
}

// timeOffsets writes the time namespace's clock offsets.
func (t *translator) timeOffsets(offsets map[string]specs.LinuxTimeOffset) error {
	if len(offsets) == 0 {
		return nil
	}
	if p, ok := t.ns[specs.TimeNamespace]; !ok || p != "" {
		return invalid("linux.timeOffsets", "needs a new time namespace in linux.namespaces")
	}
	clocks := make([]string, 0, len(offsets))
	for c := range offsets {
		clocks = append(clocks, c)
	}
	sort.Strings(clocks)
	for _, clock := range clocks {
		off := offsets[clock]
		if clock != "boottime" && clock != "monotonic" {
			return invalid("linux.timeOffsets", fmt.Sprintf("names the clock %q (accepted: boottime, monotonic)", clock))
		}
		if off.Nanosecs >= 1e9 {
			return invalid("linux.timeOffsets."+clock+".nanosecs", "must be below 1000000000")
		}
		key := map[string]string{"boottime": "lxc.time.offset.boot", "monotonic": "lxc.time.offset.monotonic"}[clock]
		if off.Nanosecs == 0 {
			t.c.add(key, fmt.Sprintf("%ds", off.Secs))
			continue
		}
		const maxSecs = (1<<63-1)/1_000_000_000 - 1
		if off.Secs > maxSecs || off.Secs < -maxSecs {
			return invalid("linux.timeOffsets."+clock+".secs", "is too large to combine with nanosecs")
		}
		t.c.add(key, fmt.Sprintf("%dns", off.Secs*1e9+int64(off.Nanosecs)))
	}
	return nil
}

// hooks: LXC hooks take other arguments than OCI hooks (no state on stdin), so none is translated.
func (t *translator) hooks() error {
	h := t.spec.Hooks
	if h == nil {
		return nil
	}
	for _, hs := range []struct {
		name  string
		hooks []specs.Hook
	}{{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop}} {
		if len(hs.hooks) > 0 {
			return unsupported("hooks."+hs.name, "LXC hooks are not called with the OCI state")
		}
	}
	return nil
}

// checkAbs checks that p is a clean absolute path a config line can carry.
func checkAbs(field, p string) error {
	if err := checkValue(field, p); err != nil {
		return err
	}
	if !path.IsAbs(p) {
		return invalid(field, fmt.Sprintf("%q must be an absolute path", p))
	}
	return nil
}
