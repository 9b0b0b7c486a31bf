package cri

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/log"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ContainerStats implements the CRI: CPU and memory from the task's cgroup v1 metrics, the
// writable layer from the snapshotter.
func (s *Service) ContainerStats(ctx context.Context, r *runtimeapi.ContainerStatsRequest) (_ *runtimeapi.ContainerStatsResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	c, err := s.findContainer(ctx, r.GetContainerId())
	if err != nil {
		return nil, err
	}
	st, err := s.stats(ctx, []*ctr{c})
	if err != nil {
		return nil, err
	}
	return &runtimeapi.ContainerStatsResponse{Stats: st[0]}, nil
}

// ListContainerStats implements the CRI for the containers the filter selects.
func (s *Service) ListContainerStats(ctx context.Context, r *runtimeapi.ListContainerStatsRequest) (_ *runtimeapi.ListContainerStatsResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	all, err := s.containers(ctx)
	if err != nil {
		return nil, err
	}
	f := r.GetFilter()
	var sel []*ctr
	for _, c := range all {
		if matchesContainer(&runtimeapi.ContainerFilter{Id: f.GetId(), PodSandboxId: f.GetPodSandboxId(), LabelSelector: f.GetLabelSelector()}, c) {
			sel = append(sel, c)
		}
	}
	st, err := s.stats(ctx, sel)
	if err != nil {
		return nil, err
	}
	return &runtimeapi.ListContainerStatsResponse{Stats: st}, nil
}

// stats reads the stats of cs: the metrics of those running, the snapshot usage of all.
func (s *Service) stats(ctx context.Context, cs []*ctr) ([]*runtimeapi.ContainerStats, error) {
	var running []string
	for _, c := range cs {
		if c.state == runtimeapi.ContainerState_CONTAINER_RUNNING {
			running = append(running, "id=="+quote(c.id))
		}
	}
	metrics := map[string]*types.Metric{}
	if len(running) > 0 {
		resp, err := s.client.TaskService().Metrics(ctx, &tasksapi.MetricsRequest{Filters: running})
		if err != nil {
			return nil, fmt.Errorf("failed to read container metrics: %w", err)
		}
		for _, m := range resp.GetMetrics() {
			metrics[m.GetID()] = m
		}
	}
	now := time.Now().UnixNano()
	out := make([]*runtimeapi.ContainerStats, 0, len(cs))
	for _, c := range cs {
		st := &runtimeapi.ContainerStats{
			Attributes: &runtimeapi.ContainerAttributes{Id: c.id, Metadata: c.cfg.GetMetadata(), Labels: c.cfg.GetLabels(), Annotations: c.cfg.GetAnnotations()},
			Cpu:        &runtimeapi.CpuUsage{Timestamp: now},
			Memory:     &runtimeapi.MemoryUsage{Timestamp: now},
		}
		if v1 := cgroupV1(ctx, metrics[c.id]); v1 != nil {
			st.Cpu.UsageCoreNanoSeconds = &runtimeapi.UInt64Value{Value: v1.CPU.GetUsage().GetTotal()}
			usage := v1.Memory.GetUsage().GetUsage()
			ws := usage - min(usage, v1.Memory.GetTotalInactiveFile())
			st.Memory.WorkingSetBytes = &runtimeapi.UInt64Value{Value: ws}
			st.Memory.UsageBytes = &runtimeapi.UInt64Value{Value: usage}
			st.Memory.RssBytes = &runtimeapi.UInt64Value{Value: v1.Memory.GetRSS()}
			st.Memory.PageFaults = &runtimeapi.UInt64Value{Value: v1.Memory.GetPgFault()}
			st.Memory.MajorPageFaults = &runtimeapi.UInt64Value{Value: v1.Memory.GetPgMajFault()}
		}
		if u, err := s.client.SnapshotService(s.snap).Usage(ctx, c.id); err == nil {
			st.WritableLayer = &runtimeapi.FilesystemUsage{Timestamp: now, FsId: &runtimeapi.FilesystemIdentifier{Mountpoint: s.fsRoot},
				UsedBytes: &runtimeapi.UInt64Value{Value: uint64(u.Size)}, InodesUsed: &runtimeapi.UInt64Value{Value: uint64(u.Inodes)}}
		}
		out = append(out, st)
	}
	return out, nil
}

// cgroupV1 decodes a task's metrics as cgroup v1 metrics; nil if there are none, or, logged, if they
// are of another kind.
func cgroupV1(ctx context.Context, m *types.Metric) *stats.Metrics {
	var v1 stats.Metrics
	if m == nil {
		return nil
	}
	if m.GetData().MessageIs(&v1) && m.GetData().UnmarshalTo(&v1) == nil {
		return &v1
	}
	log.G(ctx).WithField("id", m.GetID()).Debugf("cri: metrics of type %s are not cgroup v1 metrics", m.GetData().GetTypeUrl())
	return nil
}
