package shim

import (
	"github.com/containerd/cgroups/v3/cgroup1/stats"
	runc "github.com/containerd/go-runc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/engine"
)

// metricsAny encodes m as containerd's cgroup v1 metrics, the form `ctr tasks metrics` and the CRI
// read, with the bare type URL containerd's clients resolve.
func metricsAny(m *stats.Metrics) (*anypb.Any, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &anypb.Any{TypeUrl: "io.containerd.cgroups.v1.Metrics", Value: b}, nil
}

// runcMetrics converts the usage `runc events --stats` reports (runsc's too).
func runcMetrics(s *runc.Stats) *stats.Metrics {
	entry := func(e runc.MemoryEntry) *stats.MemoryEntry {
		return &stats.MemoryEntry{Limit: e.Limit, Usage: e.Usage, Max: e.Max, Failcnt: e.Failcnt}
	}
	m := &stats.Metrics{
		CPU: &stats.CPUStat{Usage: &stats.CPUUsage{Total: s.Cpu.Usage.Total, Kernel: s.Cpu.Usage.Kernel, User: s.Cpu.Usage.User, PerCPU: s.Cpu.Usage.Percpu},
			Throttling: &stats.Throttle{Periods: s.Cpu.Throttling.Periods, ThrottledPeriods: s.Cpu.Throttling.ThrottledPeriods,
				ThrottledTime: s.Cpu.Throttling.ThrottledTime}},
		Memory: &stats.MemoryStat{Usage: entry(s.Memory.Usage), Swap: entry(s.Memory.Swap), Kernel: entry(s.Memory.Kernel),
			KernelTCP: entry(s.Memory.KernelTCP)},
		Pids:  &stats.PidsStat{Current: s.Pids.Current, Limit: s.Pids.Limit},
		Blkio: &stats.BlkIOStat{IoServiceBytesRecursive: blkio(s.Blkio.IoServiceBytesRecursive), IoServicedRecursive: blkio(s.Blkio.IoServicedRecursive)},
	}
	memoryStat(m.Memory, s.Memory.Raw)
	m.Memory.Cache = max(m.Memory.Cache, s.Memory.Cache)
	for size, h := range s.Hugetlb {
		m.Hugetlb = append(m.Hugetlb, &stats.HugetlbStat{Pagesize: size, Usage: h.Usage, Max: h.Max, Failcnt: h.Failcnt})
	}
	return m
}

// lxcMetrics converts the usage the lcr engine reads from an LXC container's cgroups.
func lxcMetrics(s *engine.Stats) *stats.Metrics {
	m := &stats.Metrics{
		CPU: &stats.CPUStat{Usage: &stats.CPUUsage{Total: s.CPU.UsageNanos, Kernel: s.CPU.SystemNanos, User: s.CPU.UserNanos},
			Throttling: &stats.Throttle{Periods: s.CPU.Periods, ThrottledPeriods: s.CPU.ThrottledPeriods, ThrottledTime: s.CPU.ThrottledNanos}},
		Memory: &stats.MemoryStat{Usage: &stats.MemoryEntry{Usage: s.Memory.Usage, Max: s.Memory.MaxUsage, Limit: s.Memory.Limit, Failcnt: s.Memory.Failcnt},
			Swap: &stats.MemoryEntry{Usage: s.Memory.SwapUsage}, Kernel: &stats.MemoryEntry{Usage: s.Memory.KernelUsage}},
		Pids:  &stats.PidsStat{Current: s.Pids.Current, Limit: s.Pids.Limit},
		Blkio: &stats.BlkIOStat{IoServiceBytesRecursive: blkio(s.IO.ServiceBytes), IoServicedRecursive: blkio(s.IO.Serviced)},
	}
	memoryStat(m.Memory, s.Memory.Stat)
	return m
}

// blkio converts block I/O entries, runc's or the lcr engine's, which have the same fields.
func blkio[E runc.BlkioEntry | engine.IOEntry](es []E) []*stats.BlkIOEntry {
	var out []*stats.BlkIOEntry
	for _, e := range es {
		b := runc.BlkioEntry(e)
		out = append(out, &stats.BlkIOEntry{Op: b.Op, Major: b.Major, Minor: b.Minor, Value: b.Value})
	}
	return out
}

// memoryStat sets the fields of m that cgroup v1's memory.stat keys in raw name.
func memoryStat(m *stats.MemoryStat, raw map[string]uint64) {
	for k, p := range map[string]*uint64{
		"cache": &m.Cache, "rss": &m.RSS, "rss_huge": &m.RSSHuge, "mapped_file": &m.MappedFile, "dirty": &m.Dirty,
		"writeback": &m.Writeback, "pgpgin": &m.PgPgIn, "pgpgout": &m.PgPgOut, "pgfault": &m.PgFault,
		"pgmajfault": &m.PgMajFault, "inactive_anon": &m.InactiveAnon, "active_anon": &m.ActiveAnon,
		"inactive_file": &m.InactiveFile, "active_file": &m.ActiveFile, "unevictable": &m.Unevictable,
		"hierarchical_memory_limit": &m.HierarchicalMemoryLimit, "hierarchical_memsw_limit": &m.HierarchicalSwapLimit,
		"total_cache": &m.TotalCache, "total_rss": &m.TotalRSS, "total_rss_huge": &m.TotalRSSHuge,
		"total_mapped_file": &m.TotalMappedFile, "total_dirty": &m.TotalDirty, "total_writeback": &m.TotalWriteback,
		"total_pgpgin": &m.TotalPgPgIn, "total_pgpgout": &m.TotalPgPgOut, "total_pgfault": &m.TotalPgFault,
		"total_pgmajfault": &m.TotalPgMajFault, "total_inactive_anon": &m.TotalInactiveAnon,
		"total_active_anon": &m.TotalActiveAnon, "total_inactive_file": &m.TotalInactiveFile,
		"total_active_file": &m.TotalActiveFile, "total_unevictable": &m.TotalUnevictable,
	} {
		*p = raw[k]
	}
}
