package commands

import (
	"errors"
	"strings"
	"testing"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func TestDecodeMetric(t *testing.T) {
	v1, err := proto.Marshal(&stats.Metrics{
		CPU:    &stats.CPUStat{Usage: &stats.CPUUsage{Total: 1500}},
		Memory: &stats.MemoryStat{Usage: &stats.MemoryEntry{Usage: 4096, Limit: 64 << 20}},
		Pids:   &stats.PidsStat{Current: 2, Limit: 100},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		data    *anypb.Any
		want    Stat
		wantErr error
	}{
		{name: "cgroup v1", data: &anypb.Any{TypeUrl: "io.containerd.cgroups.v1.Metrics", Value: v1},
			want: Stat{ID: "c1", CPU: 1500, MemoryUsage: 4096, MemoryLimit: 64 << 20, Pids: 2, PidsLimit: 100}},
		{name: "prefixed type URL", data: &anypb.Any{TypeUrl: "types.containerd.io/io.containerd.cgroups.v1.Metrics", Value: v1},
			want: Stat{ID: "c1", CPU: 1500, MemoryUsage: 4096, MemoryLimit: 64 << 20, Pids: 2, PidsLimit: 100}},
		{name: "empty", data: &anypb.Any{TypeUrl: "io.containerd.cgroups.v1.Metrics"}, want: Stat{ID: "c1"}},
		{name: "cgroup v2", data: &anypb.Any{TypeUrl: "io.containerd.cgroups.v2.Metrics"}, wantErr: errdefs.ErrNotImplemented},
		{name: "none", wantErr: errdefs.ErrNotImplemented},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeMetric(&types.Metric{ID: "c1", Data: tc.data})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("decodeMetric = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseResources(t *testing.T) {
	for _, tc := range []struct {
		memory           string
		cpus             float64
		pids             int64
		wantLimit        int64 // 0: no memory limit
		wantQuota        int64 // 0: no CPU quota
		wantPids         int64 // 0: no pids limit
		wantInvalidInput string
	}{
		{},
		{memory: "64m", wantLimit: 64 << 20},
		{memory: "1g", cpus: 1.5, pids: 10, wantLimit: 1 << 30, wantQuota: 150000, wantPids: 10},
		{memory: "1048576", wantLimit: 1 << 20},
		{cpus: 0.01, wantQuota: 1000},
		{memory: "lots", wantInvalidInput: `invalid --memory "lots": want a size such as 64m`},
		{memory: "-1m", wantInvalidInput: `invalid --memory "-1m"`},
		{cpus: -1, wantInvalidInput: "invalid --cpus -1: want at least 0.01"},
		{cpus: 0.001, wantInvalidInput: "invalid --cpus 0.001"},
		{pids: -2, wantInvalidInput: "invalid --pids-limit -2: want a number of processes above 0"},
	} {
		res, err := ParseResources(tc.memory, tc.cpus, tc.pids)
		if tc.wantInvalidInput != "" {
			if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.wantInvalidInput) {
				t.Errorf("ParseResources(%q, %v, %d) = %v, want InvalidArgument %q", tc.memory, tc.cpus, tc.pids, err, tc.wantInvalidInput)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseResources(%q, %v, %d): %v", tc.memory, tc.cpus, tc.pids, err)
		}
		var limit, quota, pids int64
		if res.Memory != nil {
			limit = *res.Memory.Limit
		}
		if res.CPU != nil {
			quota = *res.CPU.Quota
			if *res.CPU.Period != CPUPeriod {
				t.Errorf("period %d, want %d", *res.CPU.Period, CPUPeriod)
			}
		}
		if res.Pids != nil {
			pids = *res.Pids.Limit
		}
		if limit != tc.wantLimit || quota != tc.wantQuota || pids != tc.wantPids {
			t.Errorf("ParseResources(%q, %v, %d): %d %d %d, want %d %d %d", tc.memory, tc.cpus, tc.pids, limit, quota, pids, tc.wantLimit, tc.wantQuota, tc.wantPids)
		}
	}
}
