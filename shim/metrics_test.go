package shim

import (
	"testing"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
	runc "github.com/containerd/go-runc"
	"google.golang.org/protobuf/proto"

	"github.com/corral-dev/corral/engine"
)

func TestMetrics(t *testing.T) {
	raw := map[string]uint64{"cache": 5, "total_rss": 30, "total_mapped_file": 7, "total_inactive_file": 9, "pgfault": 11, "total_pgmajfault": 2}
	for _, tc := range []struct {
		name string
		m    *stats.Metrics
	}{
		{"runc", runcMetrics(&runc.Stats{
			Cpu: runc.Cpu{Usage: runc.CpuUsage{Total: 7, Kernel: 3, User: 4, Percpu: []uint64{3, 4}},
				Throttling: runc.Throttling{Periods: 6, ThrottledPeriods: 2, ThrottledTime: 1000}},
			Memory: runc.Memory{Usage: runc.MemoryEntry{Usage: 100, Max: 150, Limit: 200, Failcnt: 1}, Swap: runc.MemoryEntry{Usage: 120},
				Kernel: runc.MemoryEntry{Usage: 8}, Raw: raw},
			Pids:    runc.Pids{Current: 2, Limit: 10},
			Blkio:   runc.Blkio{IoServiceBytesRecursive: []runc.BlkioEntry{{Major: 8, Op: "Read", Value: 512}}},
			Hugetlb: map[string]runc.Hugetlb{"2MB": {Usage: 4}},
		})},
		{"lxc", lxcMetrics(&engine.Stats{
			CPU: engine.CPUStats{UsageNanos: 7, SystemNanos: 3, UserNanos: 4, Periods: 6, ThrottledPeriods: 2, ThrottledNanos: 1000},
			Memory: engine.MemoryStats{Usage: 100, MaxUsage: 150, Limit: 200, Failcnt: 1, SwapUsage: 120, KernelUsage: 8,
				Stat: raw},
			Pids: engine.PidsStats{Current: 2, Limit: 10},
			IO:   engine.IOStats{ServiceBytes: []engine.IOEntry{{Major: 8, Op: "Read", Value: 512}}},
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := metricsAny(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if a.TypeUrl != "io.containerd.cgroups.v1.Metrics" {
				t.Errorf("type URL %q, want the bare cgroup v1 metrics name", a.TypeUrl)
			}
			var m stats.Metrics
			if err := proto.Unmarshal(a.Value, &m); err != nil {
				t.Fatal(err)
			}
			cpu, mem := m.CPU, m.Memory
			for _, c := range []struct {
				what      string
				got, want uint64
			}{
				{"cpu total", cpu.Usage.Total, 7}, {"cpu kernel", cpu.Usage.Kernel, 3}, {"cpu user", cpu.Usage.User, 4},
				{"cfs periods", cpu.Throttling.Periods, 6}, {"throttled periods", cpu.Throttling.ThrottledPeriods, 2},
				{"throttled time", cpu.Throttling.ThrottledTime, 1000},
				{"memory usage", mem.Usage.Usage, 100}, {"memory max", mem.Usage.Max, 150}, {"memory limit", mem.Usage.Limit, 200},
				{"failcnt", mem.Usage.Failcnt, 1}, {"memsw", mem.Swap.Usage, 120}, {"kernel", mem.Kernel.Usage, 8},
				{"cache", mem.Cache, 5}, {"total rss", mem.TotalRSS, 30}, {"total mapped file", mem.TotalMappedFile, 7},
				{"total inactive file", mem.TotalInactiveFile, 9}, {"pgfault", mem.PgFault, 11}, {"total pgmajfault", mem.TotalPgMajFault, 2},
				{"pids", m.Pids.Current, 2}, {"pids limit", m.Pids.Limit, 10},
				{"blkio entries", uint64(len(m.Blkio.IoServiceBytesRecursive)), 1}, {"blkio bytes", m.Blkio.IoServiceBytesRecursive[0].Value, 512},
			} {
				if c.got != c.want {
					t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
				}
			}
		})
	}
}
