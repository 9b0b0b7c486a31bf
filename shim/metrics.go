package shim

import (
	"github.com/containerd/cgroups/v3/cgroup1/stats"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// metrics is the resource usage a driver reads for Stats, in the units of the cgroup files.
type metrics struct {
	// CPU time in nanoseconds: in all, per CPU, in the kernel and in user space.
	CPUTotal, CPUKernel, CPUUser uint64
	CPUPerCPU                    []uint64
	// Memory in bytes.
	MemoryUsage, MemoryMax, MemoryLimit, MemoryCache uint64
	// PidsCurrent and PidsLimit count tasks.
	PidsCurrent, PidsLimit uint64
}

// Any encodes m as containerd's cgroup v1 metrics, the form `ctr tasks metrics` reads, with the bare
// type URL containerd's clients resolve.
func (m metrics) Any() (*anypb.Any, error) {
	b, err := proto.Marshal(&stats.Metrics{
		CPU: &stats.CPUStat{Usage: &stats.CPUUsage{Total: m.CPUTotal, Kernel: m.CPUKernel, User: m.CPUUser, PerCPU: m.CPUPerCPU}},
		Memory: &stats.MemoryStat{Cache: m.MemoryCache,
			Usage: &stats.MemoryEntry{Usage: m.MemoryUsage, Max: m.MemoryMax, Limit: m.MemoryLimit}},
		Pids: &stats.PidsStat{Current: m.PidsCurrent, Limit: m.PidsLimit},
	})
	if err != nil {
		return nil, err
	}
	return &anypb.Any{TypeUrl: "io.containerd.cgroups.v1.Metrics", Value: b}, nil
}
