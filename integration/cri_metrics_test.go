package integration

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// metricsWorkload listens on a socket, holds 8 MiB in a dd blocked writing its buffer to a pipe no
// one reads, writes 1 MiB to its writable layer and burns about 1.7 s of CPU (1.5 million shell
// iterations), then sleeps.
const metricsWorkload = `nc -l -p 8080 >/dev/null & dd if=/dev/zero bs=8388608 count=1 2>/dev/null | sleep 3600 &
head -c 1048576 /dev/zero >/tmp/f; i=0; while [ $i -lt 1500000 ]; do i=$((i+1)); done; echo ready; exec sleep 3600`

// metricsOptional are the described metrics a container need not report: block I/O its writes
// have not caused yet, hugepages it does not use, a memory reservation the CRI cannot set.
var metricsOptional = map[string]bool{
	"container_blkio_device_usage_total": true, "container_fs_reads_bytes_total": true, "container_fs_reads_total": true,
	"container_fs_writes_bytes_total": true, "container_fs_writes_total": true, "container_hugetlb_usage_bytes": true,
	"container_hugetlb_max_usage_bytes": true, "container_spec_memory_reservation_limit_bytes": true,
}

// TestCRIMetrics checks ListMetricDescriptors and ListPodSandboxMetrics on pods of the runc, lxc and
// shim v2 handlers: every reported metric is described with as many label keys as it has values; a
// container's CPU, memory, processes, sockets, writable layer, spec limits and times are its own,
// and the pod's eth0 counters are those its network namespace shows.
func TestCRIMetrics(t *testing.T) {
	d := startCRIContainers(t, "")
	rs := runtimeapi.NewRuntimeServiceClient(d.grpcConn())
	ctx := context.Background()
	descs, err := rs.ListMetricDescriptors(ctx, &runtimeapi.ListMetricDescriptorsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{}
	for _, desc := range descs.GetDescriptors() {
		if desc.GetHelp() == "" || len(desc.GetLabelKeys()) < 6 || desc.GetLabelKeys()[0] != "container" {
			t.Errorf("descriptor %v: want help and the labels container, id, image, name, namespace, pod first", desc)
		}
		keys[desc.GetName()] = len(desc.GetLabelKeys())
	}
	for _, tc := range []struct{ handler, runtime string }{{"runc", "runc"}, {"lxc", "lcr"}, {"v2", "io.containerd.runc.v2"}} {
		t.Run(tc.handler, func(t *testing.T) {
			requireRuntime(t, tc.runtime)
			podCfg := cricPod(t, "met-"+tc.handler)
			pod := d.runp(t, tc.handler, podCfg)
			cfg := cricContainer("met-"+tc.handler, "sh", "-c", metricsWorkload)
			cfg.Linux.Resources = &runtimeapi.LinuxContainerResources{CpuPeriod: 100000, CpuQuota: 150000, CpuShares: 512,
				MemoryLimitInBytes: 128 << 20, MemorySwapLimitInBytes: 128 << 20}
			start := time.Now().Add(-time.Second)
			id := d.create(t, pod, cfg, podCfg)
			d.crictl("start", id).must(t)
			d.waitLog(t, id, "ready")

			before := d.eth0RxBytes(t, id)
			resp, err := rs.ListPodSandboxMetrics(ctx, &runtimeapi.ListPodSandboxMetricsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			after := d.eth0RxBytes(t, id)
			var pm *runtimeapi.PodSandboxMetrics
			for _, m := range resp.GetPodMetrics() {
				if m.GetPodSandboxId() == pod {
					pm = m
				}
			}
			if pm == nil || len(pm.GetContainerMetrics()) != 1 || pm.GetContainerMetrics()[0].GetContainerId() != id {
				t.Fatalf("metrics of pod %s with container %s: %v", pod, id, pm)
			}
			got := map[string]uint64{} // by name and own label values
			reported := map[string]bool{}
			check := func(ms []*runtimeapi.Metric, base []string) {
				for _, m := range ms {
					n, ok := keys[m.GetName()]
					if v := m.GetLabelValues(); !ok || len(v) != n || strings.Join(v[:6], ",") != strings.Join(base, ",") {
						t.Errorf("%s: labels %q, want %d (described: %v) starting %q", m.GetName(), v, n, ok, base)
						continue
					}
					got[strings.Join(append([]string{m.GetName()}, m.GetLabelValues()[6:]...), " ")] = m.GetValue().GetValue()
					reported[m.GetName()] = true
				}
			}
			// id is the cgroup path, containerd's default /<namespace>/<id> here.
			check(pm.GetMetrics(), []string{"", "/k8s.io/" + pod, "", pod, "cri-test", podCfg.Metadata.Name})
			check(pm.GetContainerMetrics()[0].GetMetrics(), []string{"cric-met-" + tc.handler, "/k8s.io/" + id, criImage, id, "cri-test", podCfg.Metadata.Name})
			now := uint64(time.Now().Unix())
			for _, c := range []struct {
				key    string
				lo, hi uint64
			}{
				{"container_cpu_usage_seconds_total", 1, 60},
				{"container_cpu_user_seconds_total", 1, 60},
				{"container_cpu_cfs_periods_total", 1, 1 << 40},
				{"container_memory_usage_bytes", 8 << 20, 128 << 20},
				{"container_memory_working_set_bytes", 8 << 20, 128 << 20},
				{"container_memory_rss", 8 << 20, 128 << 20},
				{"container_memory_max_usage_bytes", 8 << 20, 128 << 20},
				{"container_memory_failures_total pgfault hierarchy", 1, 1 << 40},
				{"container_oom_events_total", 0, 0},
				{"container_processes", 2, 10},
				{"container_threads", 2, 10},
				{"container_file_descriptors", 4, 1000},
				{"container_sockets", 1, 10},
				{"container_ulimits_soft max_open_files", 1, 1 << 40},
				{"container_spec_cpu_period", 100000, 100000},
				{"container_spec_cpu_quota", 150000, 150000},
				{"container_spec_cpu_shares", 512, 512},
				{"container_spec_memory_limit_bytes", 128 << 20, 128 << 20},
				{"container_spec_memory_swap_limit_bytes", 128 << 20, 128 << 20},
				{"container_start_time_seconds", uint64(start.Unix()), now},
				{"container_last_seen", now - 60, now},
				{"container_network_receive_bytes_total eth0", before, after},
			} {
				if v, ok := got[c.key]; !ok || v < c.lo || v > c.hi {
					t.Errorf("%s = %d (reported: %v), want %d to %d", c.key, v, ok, c.lo, c.hi)
				}
			}
			for name := range keys {
				if !metricsOptional[name] && !reported[name] {
					t.Errorf("%s is described but not reported", name)
				}
			}
			var fs bool
			for k, v := range got {
				if strings.HasPrefix(k, "container_fs_usage_bytes ") {
					fs = v >= 1<<20 && got["container_fs_limit_bytes"+strings.TrimPrefix(k, "container_fs_usage_bytes")] > v
				}
			}
			if !fs {
				t.Errorf("no writable layer of 1 MiB or more on a device with a limit: %v", got)
			}
			d.crictl("stopp", pod).must(t)
			d.crictl("rmp", pod).must(t)
		})
	}
}

// eth0RxBytes reads the bytes eth0 received in the network namespace of container id.
func (d *criDaemon) eth0RxBytes(t *testing.T, id string) uint64 {
	t.Helper()
	for _, l := range strings.Split(d.crictl("exec", "-s", id, "cat", "/proc/net/dev").must(t), "\n") {
		if name, counters, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(name) == "eth0" {
			n, err := strconv.ParseUint(strings.Fields(counters)[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no eth0 in the pod's /proc/net/dev")
	return 0
}
