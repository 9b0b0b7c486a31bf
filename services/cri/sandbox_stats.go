package cri

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PodSandboxStats implements the CRI: the pod's CPU and memory, summed over its pause container
// and its running containers, the counters of its network interfaces, and each container's stats.
func (s *Service) PodSandboxStats(ctx context.Context, r *runtimeapi.PodSandboxStatsRequest) (_ *runtimeapi.PodSandboxStatsResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	sb, err := s.find(ctx, r.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	st, err := s.podStats(ctx, sb)
	if err != nil {
		return nil, err
	}
	return &runtimeapi.PodSandboxStatsResponse{Stats: st}, nil
}

// ListPodSandboxStats implements the CRI for the ready pods the filter selects.
func (s *Service) ListPodSandboxStats(ctx context.Context, r *runtimeapi.ListPodSandboxStatsRequest) (_ *runtimeapi.ListPodSandboxStatsResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	all, err := s.sandboxes(ctx)
	if err != nil {
		return nil, err
	}
	f := &runtimeapi.PodSandboxFilter{Id: r.GetFilter().GetId(), LabelSelector: r.GetFilter().GetLabelSelector(),
		State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}}
	resp := &runtimeapi.ListPodSandboxStatsResponse{}
	for _, sb := range all {
		if !matches(f, sb) {
			continue
		}
		st, err := s.podStats(ctx, sb)
		if err != nil {
			return nil, err
		}
		resp.Stats = append(resp.Stats, st)
	}
	return resp, nil
}

// podStats reads the stats of pod sb: the pause's and its containers' metrics, summed, and its
// network interfaces as the pause process sees them.
func (s *Service) podStats(ctx context.Context, sb *sandbox) (*runtimeapi.PodSandboxStats, error) {
	cs, err := s.podContainers(ctx, sb.id)
	if err != nil {
		return nil, err
	}
	pause := &ctr{id: sb.id, cfg: &runtimeapi.ContainerConfig{}}
	if sb.state == runtimeapi.PodSandboxState_SANDBOX_READY {
		pause.state = runtimeapi.ContainerState_CONTAINER_RUNNING
	}
	all, err := s.stats(ctx, append([]*ctr{pause}, cs...))
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixNano()
	cpu, mem := &runtimeapi.CpuUsage{Timestamp: now}, &runtimeapi.MemoryUsage{Timestamp: now}
	var usage, ws, rss uint64
	for _, st := range all {
		cpu.UsageCoreNanoSeconds = &runtimeapi.UInt64Value{Value: cpu.GetUsageCoreNanoSeconds().GetValue() + st.GetCpu().GetUsageCoreNanoSeconds().GetValue()}
		usage += st.GetMemory().GetUsageBytes().GetValue()
		ws += st.GetMemory().GetWorkingSetBytes().GetValue()
		rss += st.GetMemory().GetRssBytes().GetValue()
	}
	mem.UsageBytes, mem.WorkingSetBytes, mem.RssBytes = &runtimeapi.UInt64Value{Value: usage}, &runtimeapi.UInt64Value{Value: ws}, &runtimeapi.UInt64Value{Value: rss}
	linux := &runtimeapi.LinuxPodSandboxStats{Cpu: cpu, Memory: mem, Containers: all[1:]}
	if sb.pid != 0 && sb.state == runtimeapi.PodSandboxState_SANDBOX_READY {
		if linux.Network, err = netStats(fmt.Sprintf("/proc/%d/net/dev", sb.pid), now); err != nil {
			return nil, fmt.Errorf("failed to read the network counters of pod sandbox %s: %w", sb.id, err)
		}
	}
	md := sb.cfg.GetMetadata()
	return &runtimeapi.PodSandboxStats{
		Attributes: &runtimeapi.PodSandboxAttributes{Id: sb.id, Metadata: md, Labels: sb.cfg.GetLabels(), Annotations: sb.cfg.GetAnnotations()},
		Linux:      linux,
	}, nil
}

// netStats reads a /proc/<pid>/net/dev file: every interface but loopback, the first of them as the
// default one, as kubelet reads pod network stats.
func netStats(path string, now int64) (*runtimeapi.NetworkUsage, error) {
	ifaces, err := netDev(path)
	if err != nil {
		return nil, err
	}
	out := &runtimeapi.NetworkUsage{Timestamp: now}
	for _, i := range ifaces {
		n := func(v uint64) *runtimeapi.UInt64Value { return &runtimeapi.UInt64Value{Value: v} }
		iface := &runtimeapi.NetworkInterfaceUsage{Name: i.name, RxBytes: n(i.c[rxBytes]), RxErrors: n(i.c[rxErrors]),
			TxBytes: n(i.c[txBytes]), TxErrors: n(i.c[txErrors])}
		if out.DefaultInterface == nil {
			out.DefaultInterface = iface
		}
		out.Interfaces = append(out.Interfaces, iface)
	}
	return out, nil
}

// netCounters are an interface's counters in /proc/net/dev's order: received bytes, packets, errs,
// drop, fifo, frame, compressed, multicast, then transmitted bytes, packets, errs, drop, fifo,
// colls, carrier, compressed.
type netCounters struct {
	name string
	c    [16]uint64
}

// Indexes of netCounters.c.
const (
	rxBytes, rxPackets, rxErrors, rxDropped = 0, 1, 2, 3
	txBytes, txPackets, txErrors, txDropped = 8, 9, 10, 11
)

// netDev reads a /proc/<pid>/net/dev file: the counters of every interface but loopback.
func netDev(path string) ([]netCounters, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []netCounters
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, counters, ok := strings.Cut(sc.Text(), ":")
		name = strings.TrimSpace(name)
		fields := strings.Fields(counters)
		if !ok || name == "lo" || len(fields) < 16 {
			continue // the two header lines, loopback
		}
		n := netCounters{name: name}
		for i := range n.c {
			n.c[i], _ = strconv.ParseUint(fields[i], 10, 64)
		}
		out = append(out, n)
	}
	return out, sc.Err()
}
