package commands

import (
	"errors"
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
