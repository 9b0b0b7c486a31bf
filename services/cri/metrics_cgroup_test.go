package cri

import (
	"testing"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
)

func TestCgroupSamples(t *testing.T) {
	m := &stats.Metrics{
		CPU: &stats.CPUStat{Usage: &stats.CPUUsage{Total: 3_500_000_000, User: 2_100_000_000, Kernel: 1_400_000_000},
			Throttling: &stats.Throttle{Periods: 40, ThrottledPeriods: 7, ThrottledTime: 2_000_000_001}},
		Memory: &stats.MemoryStat{Usage: &stats.MemoryEntry{Usage: 1000, Max: 1500, Failcnt: 2}, Swap: &stats.MemoryEntry{Usage: 1300},
			Kernel: &stats.MemoryEntry{Usage: 60}, TotalRSS: 400, TotalCache: 500, TotalMappedFile: 70, TotalInactiveFile: 300,
			PgFault: 11, TotalPgFault: 12, PgMajFault: 1, TotalPgMajFault: 2},
		MemoryOomControl: &stats.MemoryOomControl{OomKill: 1},
		Hugetlb:          []*stats.HugetlbStat{{Pagesize: "2MB", Usage: 4096, Max: 8192}},
		Pids:             &stats.PidsStat{Current: 5, Limit: 100},
		Blkio: &stats.BlkIOStat{
			IoServiceBytesRecursive: []*stats.BlkIOEntry{{Device: "/dev/vda", Major: 254, Op: "Read", Value: 512}, {Device: "/dev/vda", Major: 254, Op: "Write", Value: 1024}},
			IoServicedRecursive:     []*stats.BlkIOEntry{{Device: "/dev/vda", Major: 254, Op: "Read", Value: 1}, {Device: "/dev/vda", Major: 254, Op: "Write", Value: 2}},
		},
	}
	s := &samples{labels: make([]string, len(baseLabels))}
	cgroupSamples(s, m)
	got := checkSamples(t, s.out)
	for _, tc := range []struct {
		key  string // name and own label values
		want uint64
	}{
		{"container_cpu_usage_seconds_total", 3},
		{"container_cpu_user_seconds_total", 2},
		{"container_cpu_system_seconds_total", 1},
		{"container_cpu_cfs_periods_total", 40},
		{"container_cpu_cfs_throttled_periods_total", 7},
		{"container_cpu_cfs_throttled_seconds_total", 2},
		{"container_memory_usage_bytes", 1000},
		{"container_memory_working_set_bytes", 700},
		{"container_memory_max_usage_bytes", 1500},
		{"container_memory_failcnt", 2},
		{"container_memory_rss", 400},
		{"container_memory_cache", 500},
		{"container_memory_mapped_file", 70},
		{"container_memory_kernel_usage", 60},
		{"container_memory_swap", 300},
		{"container_memory_failures_total pgfault container", 11},
		{"container_memory_failures_total pgfault hierarchy", 12},
		{"container_memory_failures_total pgmajfault container", 1},
		{"container_memory_failures_total pgmajfault hierarchy", 2},
		{"container_oom_events_total", 1},
		{"container_hugetlb_usage_bytes 2MB", 4096},
		{"container_hugetlb_max_usage_bytes 2MB", 8192},
		{"container_threads", 5},
		{"container_threads_max", 100},
		{"container_blkio_device_usage_total /dev/vda 254 0 Read", 512},
		{"container_blkio_device_usage_total /dev/vda 254 0 Write", 1024},
		{"container_fs_reads_bytes_total /dev/vda", 512},
		{"container_fs_writes_bytes_total /dev/vda", 1024},
		{"container_fs_reads_total /dev/vda", 1},
		{"container_fs_writes_total /dev/vda", 2},
	} {
		if v, ok := got[tc.key]; !ok || v != tc.want {
			t.Errorf("%s = %d (reported %v), want %d", tc.key, v, ok, tc.want)
		}
	}
	if len(got) != len(s.out) {
		t.Errorf("%d samples, %d distinct: a metric is reported twice with the same labels", len(s.out), len(got))
	}
}

func TestCgroupSamplesWithoutSwapAccounting(t *testing.T) {
	s := &samples{labels: make([]string, len(baseLabels))}
	cgroupSamples(s, &stats.Metrics{Memory: &stats.MemoryStat{Usage: &stats.MemoryEntry{Usage: 1000}}})
	if got := checkSamples(t, s.out); got["container_memory_swap"] != 0 {
		t.Errorf("swap %d without memsw accounting, want 0", got["container_memory_swap"])
	}
}

func TestBlockDevice(t *testing.T) {
	if got := blockDevice(0, 1<<19); got != "0:524288" {
		t.Errorf("blockDevice of a number sysfs does not know = %q, want major:minor", got)
	}
}
