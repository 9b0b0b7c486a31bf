package cri

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
)

// cgroupSamples adds a container's CPU, memory, block I/O, hugetlb and thread metrics from its
// cgroup v1 metrics, as cAdvisor reads them on cgroup v1: memory from the hierarchical (total_)
// counters of memory.stat, swap as memory+swap less memory.
func cgroupSamples(s *samples, m *stats.Metrics) {
	sec := uint64(time.Second)
	if u := m.GetCPU().GetUsage(); u != nil {
		s.add("container_cpu_usage_seconds_total", u.GetTotal()/sec)
		s.add("container_cpu_user_seconds_total", u.GetUser()/sec)
		s.add("container_cpu_system_seconds_total", u.GetKernel()/sec)
	}
	if t := m.GetCPU().GetThrottling(); t != nil {
		s.add("container_cpu_cfs_periods_total", t.GetPeriods())
		s.add("container_cpu_cfs_throttled_periods_total", t.GetThrottledPeriods())
		s.add("container_cpu_cfs_throttled_seconds_total", t.GetThrottledTime()/sec)
	}
	if mem := m.GetMemory(); mem != nil {
		usage := mem.GetUsage().GetUsage()
		s.add("container_memory_usage_bytes", usage)
		s.add("container_memory_working_set_bytes", usage-min(usage, mem.GetTotalInactiveFile()))
		s.add("container_memory_max_usage_bytes", mem.GetUsage().GetMax())
		s.add("container_memory_failcnt", mem.GetUsage().GetFailcnt())
		s.add("container_memory_rss", mem.GetTotalRSS())
		s.add("container_memory_cache", mem.GetTotalCache())
		s.add("container_memory_mapped_file", mem.GetTotalMappedFile())
		s.add("container_memory_kernel_usage", mem.GetKernel().GetUsage())
		s.add("container_memory_swap", mem.GetSwap().GetUsage()-min(usage, mem.GetSwap().GetUsage()))
		s.add("container_memory_failures_total", mem.GetPgFault(), "pgfault", "container")
		s.add("container_memory_failures_total", mem.GetTotalPgFault(), "pgfault", "hierarchy")
		s.add("container_memory_failures_total", mem.GetPgMajFault(), "pgmajfault", "container")
		s.add("container_memory_failures_total", mem.GetTotalPgMajFault(), "pgmajfault", "hierarchy")
	}
	if oom := m.GetMemoryOomControl(); oom != nil {
		s.add("container_oom_events_total", oom.GetOomKill())
	}
	for _, h := range m.GetHugetlb() {
		s.add("container_hugetlb_usage_bytes", h.GetUsage(), h.GetPagesize())
		s.add("container_hugetlb_max_usage_bytes", h.GetMax(), h.GetPagesize())
	}
	if p := m.GetPids(); p != nil {
		s.add("container_threads", p.GetCurrent())
		s.add("container_threads_max", p.GetLimit())
	}
	blkioSamples(s, m.GetBlkio())
}

// blkioSamples adds the bytes and operations of each block device: every operation's bytes, and
// the reads and writes per device.
func blkioSamples(s *samples, b *stats.BlkIOStat) {
	for _, e := range b.GetIoServiceBytesRecursive() {
		dev := deviceName(e)
		s.add("container_blkio_device_usage_total", e.GetValue(), dev, strconv.FormatUint(e.GetMajor(), 10),
			strconv.FormatUint(e.GetMinor(), 10), e.GetOp())
		switch strings.ToLower(e.GetOp()) {
		case "read":
			s.add("container_fs_reads_bytes_total", e.GetValue(), dev)
		case "write":
			s.add("container_fs_writes_bytes_total", e.GetValue(), dev)
		}
	}
	for _, e := range b.GetIoServicedRecursive() {
		switch strings.ToLower(e.GetOp()) {
		case "read":
			s.add("container_fs_reads_total", e.GetValue(), deviceName(e))
		case "write":
			s.add("container_fs_writes_total", e.GetValue(), deviceName(e))
		}
	}
}

// deviceName is the device an entry names, or else the name sysfs gives its number.
func deviceName(e *stats.BlkIOEntry) string {
	if e.GetDevice() != "" {
		return e.GetDevice()
	}
	return blockDevice(e.GetMajor(), e.GetMinor())
}

// blockDevice names device major:minor as cAdvisor does, /dev/<DEVNAME> from sysfs; "major:minor"
// if it is no block device.
func blockDevice(major, minor uint64) string {
	b, _ := os.ReadFile(fmt.Sprintf("/sys/dev/block/%d:%d/uevent", major, minor))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "DEVNAME="); ok {
			return "/dev/" + v
		}
	}
	return fmt.Sprintf("%d:%d", major, minor)
}
