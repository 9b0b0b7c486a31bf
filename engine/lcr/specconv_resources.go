package lcr

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// resources writes the cgroup limits as lxc.cgroup.<file> (v1) or lxc.cgroup2.<file> (v2) lines.
func (t *translator) resources() error {
	if t.spec.Linux == nil || t.spec.Linux.Resources == nil {
		return nil
	}
	settings, err := CgroupSettings(t.spec.Linux.Resources, t.o.CgroupV2)
	if err != nil {
		return err
	}
	for _, s := range settings {
		t.c.add(t.cgroupKey(s.Key), s.Value)
	}
	return nil
}

func (t *translator) cgroupKey(file string) string {
	if t.o.CgroupV2 {
		return "lxc.cgroup2." + file
	}
	return "lxc.cgroup." + file
}

// CgroupSettings returns the cgroup files, and the values to write to them, that apply r on a cgroup
// v1 or, with v2, a unified hierarchy: the same values Translate writes in the config, and what an
// update of a running container writes with lxc-cgroup. Device rules are not among them.
func CgroupSettings(r *specs.LinuxResources, v2 bool) ([]Line, error) {
	w := &cgroupWriter{v2: v2}
	for _, f := range []func(*specs.LinuxResources) error{w.memory, w.cpu, w.pids, w.blockIO, w.hugepages, w.network, w.unified} {
		if err := f(r); err != nil {
			return nil, err
		}
	}
	if len(r.Rdma) > 0 {
		return nil, unsupported("linux.resources.rdma", "LXC has no rdma controller support")
	}
	return w.out, nil
}

type cgroupWriter struct {
	v2  bool
	out []Line
}

func (w *cgroupWriter) set(file, value string) { w.out = append(w.out, Line{Key: file, Value: value}) }

// v1only fails on a unified hierarchy, for a field only cgroup v1 has.
func (w *cgroupWriter) v1only(field string) error {
	if w.v2 {
		return unsupported(field, "cgroup v2 has no such limit")
	}
	return nil
}

func (w *cgroupWriter) memory(r *specs.LinuxResources) error {
	m := r.Memory
	if m == nil {
		return nil
	}
	const f = "linux.resources.memory."
	switch {
	case m.Kernel != nil:
		return unsupported(f+"kernel", "kernel memory limits are deprecated; recent kernels and cgroup v2 have none")
	case m.CheckBeforeUpdate != nil && *m.CheckBeforeUpdate:
		return unsupported(f+"checkBeforeUpdate", "lxc-cgroup writes limits without checking usage first")
	}
	for _, v := range []struct {
		field string
		p     *int64
	}{{"limit", m.Limit}, {"reservation", m.Reservation}, {"swap", m.Swap}, {"kernelTCP", m.KernelTCP}} {
		if v.p != nil && *v.p < -1 {
			return invalid(f+v.field, fmt.Sprintf("%d must be a byte count or -1 for no limit", *v.p))
		}
	}
	if w.v2 {
		return w.memoryV2(m)
	}
	setInt(w, "memory.limit_in_bytes", m.Limit)
	setInt(w, "memory.soft_limit_in_bytes", m.Reservation)
	setInt(w, "memory.memsw.limit_in_bytes", m.Swap)
	setInt(w, "memory.kmem.tcp.limit_in_bytes", m.KernelTCP)
	if m.Swappiness != nil {
		if *m.Swappiness > 100 {
			return invalid(f+"swappiness", fmt.Sprintf("%d is above 100", *m.Swappiness))
		}
		w.set("memory.swappiness", strconv.FormatUint(*m.Swappiness, 10))
	}
	if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
		w.set("memory.oom_control", "1")
	}
	if m.UseHierarchy != nil {
		w.set("memory.use_hierarchy", boolValue(*m.UseHierarchy))
	}
	return nil
}

func (w *cgroupWriter) memoryV2(m *specs.LinuxMemory) error {
	const f = "linux.resources.memory."
	switch {
	case m.KernelTCP != nil:
		return unsupported(f+"kernelTCP", "cgroup v2 has no such limit")
	case m.Swappiness != nil:
		return unsupported(f+"swappiness", "cgroup v2 has no such setting")
	case m.DisableOOMKiller != nil && *m.DisableOOMKiller:
		return unsupported(f+"disableOOMKiller", "cgroup v2 has no such setting")
	case m.UseHierarchy != nil && !*m.UseHierarchy:
		return unsupported(f+"useHierarchy", "cgroup v2 is always hierarchical")
	}
	setMax(w, "memory.max", m.Limit)
	setMax(w, "memory.low", m.Reservation)
	if m.Swap != nil && *m.Swap != 0 {
		// OCI's swap is memory+swap; cgroup v2's swap.max is swap alone (runc converts the same way).
		swap := *m.Swap
		if swap != -1 {
			if m.Limit == nil || *m.Limit <= 0 {
				return invalid(f+"swap", "needs memory.limit on cgroup v2")
			}
			if swap < *m.Limit {
				return invalid(f+"swap", fmt.Sprintf("%d (memory+swap) is below memory.limit %d", swap, *m.Limit))
			}
			swap -= *m.Limit
		}
		setMax(w, "memory.swap.max", &swap)
	}
	return nil
}

func (w *cgroupWriter) cpu(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	const f = "linux.resources.cpu."
	for _, s := range []struct{ field, v string }{{"cpus", c.Cpus}, {"mems", c.Mems}} {
		if strings.Trim(s.v, "0123456789,-") != "" {
			return invalid(f+s.field, fmt.Sprintf("%q must be a list such as 0-3,5", s.v))
		}
	}
	if w.v2 {
		if c.RealtimePeriod != nil || c.RealtimeRuntime != nil {
			return unsupported(f+"realtimeRuntime", "cgroup v2 has no realtime limits")
		}
		if c.Shares != nil && *c.Shares != 0 {
			w.set("cpu.weight", strconv.FormatUint(1+((*c.Shares-2)*9999)/262142, 10))
		}
		if max := cpuMax(c); max != "" {
			w.set("cpu.max", max)
		}
		setUint(w, "cpu.max.burst", c.Burst)
		if c.Idle != nil {
			w.set("cpu.idle", strconv.FormatInt(*c.Idle, 10))
		}
	} else {
		if c.Idle != nil {
			return unsupported(f+"idle", "cgroup v1 has no such setting")
		}
		setUint(w, "cpu.shares", c.Shares)
		setUint(w, "cpu.cfs_period_us", c.Period)
		setInt(w, "cpu.cfs_quota_us", c.Quota)
		setUint(w, "cpu.cfs_burst_us", c.Burst)
		setUint(w, "cpu.rt_period_us", c.RealtimePeriod)
		setInt(w, "cpu.rt_runtime_us", c.RealtimeRuntime)
	}
	if c.Cpus != "" {
		w.set("cpuset.cpus", c.Cpus)
	}
	if c.Mems != "" {
		w.set("cpuset.mems", c.Mems)
	}
	return nil
}

// cpuMax is cgroup v2's "quota period" (runc's conversion: no quota is "max", no period 100000 µs).
func cpuMax(c *specs.LinuxCPU) string {
	var quota int64
	var period uint64
	if c.Quota != nil {
		quota = *c.Quota
	}
	if c.Period != nil {
		period = *c.Period
	}
	if quota <= 0 && period == 0 {
		return ""
	}
	if period == 0 {
		period = 100000
	}
	if quota <= 0 {
		return fmt.Sprintf("max %d", period)
	}
	return fmt.Sprintf("%d %d", quota, period)
}

func (w *cgroupWriter) pids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	if l := *r.Pids.Limit; l > 0 {
		w.set("pids.max", strconv.FormatInt(l, 10))
	} else {
		w.set("pids.max", "max")
	}
	return nil
}

func setInt(w *cgroupWriter, file string, v *int64) {
	if v != nil {
		w.set(file, strconv.FormatInt(*v, 10))
	}
}

func setUint(w *cgroupWriter, file string, v *uint64) {
	if v != nil {
		w.set(file, strconv.FormatUint(*v, 10))
	}
}

func setUint16(w *cgroupWriter, file string, v *uint16) {
	if v != nil {
		w.set(file, strconv.FormatUint(uint64(*v), 10))
	}
}

// setMax writes a v2 limit: -1 is "max".
func setMax(w *cgroupWriter, file string, v *int64) {
	if v == nil {
		return
	}
	if *v == -1 {
		w.set(file, "max")
		return
	}
	w.set(file, strconv.FormatInt(*v, 10))
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
