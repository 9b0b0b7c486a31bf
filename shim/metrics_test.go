package shim

import (
	"testing"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
	"google.golang.org/protobuf/proto"
)

func TestMetricsAny(t *testing.T) {
	a, err := metrics{CPUTotal: 7, CPUPerCPU: []uint64{3, 4}, MemoryUsage: 100, MemoryLimit: 200, PidsCurrent: 2}.Any()
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
	if m.CPU.Usage.Total != 7 || len(m.CPU.Usage.PerCPU) != 2 || m.Memory.Usage.Usage != 100 || m.Memory.Usage.Limit != 200 || m.Pids.Current != 2 {
		t.Errorf("decoded %v", &m)
	}
}
