package cri

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListPodSandboxMetrics implements the CRI: for every ready pod, the counters of its network
// interfaces, and each running container's metrics (metricDescs), as cAdvisor reports them. A
// container whose task cannot be read, having just exited, is left out.
func (s *Service) ListPodSandboxMetrics(ctx context.Context, _ *runtimeapi.ListPodSandboxMetricsRequest) (_ *runtimeapi.ListPodSandboxMetricsResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	sbs, err := s.sandboxes(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := s.containers(ctx)
	if err != nil {
		return nil, err
	}
	recs, err := s.client.ContainerService().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to list container specs: %w", err)
	}
	specOf := map[string]*specs.Spec{}
	for _, rec := range recs {
		var sp specs.Spec
		if json.Unmarshal(rec.Spec.GetValue(), &sp) == nil {
			specOf[rec.ID] = &sp
		}
	}
	running := map[string][]*ctr{}
	for _, c := range cs {
		if c.state == runtimeapi.ContainerState_CONTAINER_RUNNING {
			running[c.sandboxID] = append(running[c.sandboxID], c)
		}
	}
	now := time.Now()
	resp := &runtimeapi.ListPodSandboxMetricsResponse{}
	for _, sb := range sbs {
		if sb.state != runtimeapi.PodSandboxState_SANDBOX_READY {
			continue
		}
		md := sb.cfg.GetMetadata()
		pm := &runtimeapi.PodSandboxMetrics{PodSandboxId: sb.id}
		if sb.netns != "" && sb.pid != 0 { // a pod on the host's network has no counters of its own
			ps := &samples{now: now.UnixNano(), labels: []string{"", cgroupID(specOf[sb.id], sb.id), "", sb.id, md.GetNamespace(), md.GetName()}}
			if err := networkSamples(ps, fmt.Sprintf("/proc/%d/net/dev", sb.pid)); err != nil {
				log.G(ctx).WithError(err).WithField("id", sb.id).Debug("cri: no network metrics of the pod")
			}
			pm.Metrics = ps.out
		}
		for _, c := range running[sb.id] {
			cm, err := s.containerMetrics(ctx, c, specOf[c.id], md, now)
			if err != nil {
				log.G(ctx).WithError(err).WithField("id", c.id).Debug("cri: no metrics of the container")
				continue
			}
			pm.ContainerMetrics = append(pm.ContainerMetrics, cm)
		}
		resp.PodMetrics = append(resp.PodMetrics, pm)
	}
	return resp, nil
}

// containerMetrics reads the metrics of running container c, in pod md: its task's cgroup metrics
// and processes, its writable layer, its spec's limits.
func (s *Service) containerMetrics(ctx context.Context, c *ctr, spec *specs.Spec, md *runtimeapi.PodSandboxMetadata, now time.Time) (*runtimeapi.ContainerMetrics, error) {
	tm, err := s.client.TaskService().Metrics(ctx, &tasksapi.MetricsRequest{Filters: []string{"id==" + quote(c.id)}})
	if err != nil {
		return nil, fmt.Errorf("failed to read metrics of container %s: %w", c.id, err)
	}
	procs, err := s.client.TaskService().ListPids(ctx, &tasksapi.ListPidsRequest{ContainerID: c.id})
	if err != nil {
		return nil, fmt.Errorf("failed to list processes of container %s: %w", c.id, err)
	}
	cs := &samples{now: now.UnixNano(), labels: []string{c.cfg.GetMetadata().GetName(), cgroupID(spec, c.id), c.image, c.id, md.GetNamespace(), md.GetName()}}
	cs.add("container_start_time_seconds", uint64(c.started.Unix()))
	cs.add("container_last_seen", uint64(now.Unix()))
	for _, m := range tm.GetMetrics() {
		if v1 := cgroupV1(ctx, m); v1 != nil {
			cgroupSamples(cs, v1)
		}
	}
	pids := make([]uint32, 0, len(procs.GetProcesses()))
	for _, p := range procs.GetProcesses() {
		pids = append(pids, p.GetPid())
	}
	procSamples(cs, "/proc", c.pid, pids)
	if u, err := s.client.SnapshotService(s.snap).Usage(ctx, c.id); err == nil {
		if err := fsSamples(cs, s.fsRoot, uint64(u.Size)); err != nil {
			log.G(ctx).WithError(err).WithField("id", c.id).Debug("cri: no filesystem metrics of the container")
		}
	}
	if spec != nil && spec.Linux != nil {
		specSamples(cs, spec.Linux.Resources)
	}
	return &runtimeapi.ContainerMetrics{ContainerId: c.id, Metrics: cs.out}, nil
}

// networkSamples adds the counters of every interface but loopback in a /proc/<pid>/net/dev file.
func networkSamples(s *samples, path string) error {
	ifaces, err := netDev(path)
	if err != nil {
		return err
	}
	for _, i := range ifaces {
		s.add("container_network_receive_bytes_total", i.c[rxBytes], i.name)
		s.add("container_network_receive_packets_total", i.c[rxPackets], i.name)
		s.add("container_network_receive_packets_dropped_total", i.c[rxDropped], i.name)
		s.add("container_network_receive_errors_total", i.c[rxErrors], i.name)
		s.add("container_network_transmit_bytes_total", i.c[txBytes], i.name)
		s.add("container_network_transmit_packets_total", i.c[txPackets], i.name)
		s.add("container_network_transmit_packets_dropped_total", i.c[txDropped], i.name)
		s.add("container_network_transmit_errors_total", i.c[txErrors], i.name)
	}
	return nil
}

// cgroupID is the id label of a container or pod: its cgroup path, as cAdvisor's, or its id if its
// spec names none.
func cgroupID(spec *specs.Spec, id string) string {
	if spec != nil && spec.Linux != nil && spec.Linux.CgroupsPath != "" {
		return spec.Linux.CgroupsPath
	}
	return id
}
