package cri

import (
	"context"
	"slices"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// critestMetrics are the names critest v1.37.0 expects (expectedMetricDescriptorNames), but those it
// lists as not yet implemented by all runtimes and this CRI does not report on cgroup v1: PSI
// pressure, which is cgroup v2's.
var critestMetrics = []string{
	"container_blkio_device_usage_total", "container_cpu_cfs_periods_total", "container_cpu_cfs_throttled_periods_total",
	"container_cpu_cfs_throttled_seconds_total", "container_cpu_system_seconds_total", "container_cpu_usage_seconds_total",
	"container_cpu_user_seconds_total", "container_file_descriptors", "container_fs_inodes_free", "container_fs_inodes_total",
	"container_fs_limit_bytes", "container_fs_reads_bytes_total", "container_fs_reads_total", "container_fs_usage_bytes",
	"container_fs_writes_bytes_total", "container_fs_writes_total", "container_hugetlb_max_usage_bytes",
	"container_hugetlb_usage_bytes", "container_last_seen", "container_memory_cache", "container_memory_failcnt",
	"container_memory_failures_total", "container_memory_kernel_usage", "container_memory_mapped_file",
	"container_memory_max_usage_bytes", "container_memory_rss", "container_memory_swap", "container_memory_usage_bytes",
	"container_memory_working_set_bytes", "container_network_receive_bytes_total", "container_network_receive_errors_total",
	"container_network_receive_packets_dropped_total", "container_network_receive_packets_total",
	"container_network_transmit_bytes_total", "container_network_transmit_errors_total",
	"container_network_transmit_packets_dropped_total", "container_network_transmit_packets_total",
	"container_oom_events_total", "container_processes", "container_sockets", "container_spec_cpu_period",
	"container_spec_cpu_quota", "container_spec_cpu_shares", "container_spec_memory_limit_bytes",
	"container_spec_memory_reservation_limit_bytes", "container_spec_memory_swap_limit_bytes",
	"container_start_time_seconds", "container_threads", "container_threads_max", "container_ulimits_soft",
}

// oddType are cAdvisor's counters without the suffix _total and gauges with it.
var oddType = map[string]bool{"container_memory_failcnt": true, "container_fs_inodes_total": true}

func TestListMetricDescriptors(t *testing.T) {
	resp, err := (&Service{}).ListMetricDescriptors(context.Background(), &runtimeapi.ListMetricDescriptorsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range resp.GetDescriptors() {
		switch {
		case seen[d.GetName()]:
			t.Errorf("%s is described twice", d.GetName())
		case !strings.HasPrefix(d.GetName(), "container_"):
			t.Errorf("%s is not a cAdvisor container metric name", d.GetName())
		case d.GetHelp() == "":
			t.Errorf("%s has no help", d.GetName())
		case !slices.Equal(d.GetLabelKeys()[:len(baseLabels)], baseLabels):
			t.Errorf("%s has label keys %v, want %v first", d.GetName(), d.GetLabelKeys(), baseLabels)
		case metricsByName[d.GetName()].counter != (strings.HasSuffix(d.GetName(), "_total") != oddType[d.GetName()]):
			t.Errorf("%s: counter %v, unlike cAdvisor's", d.GetName(), metricsByName[d.GetName()].counter)
		}
		seen[d.GetName()] = true
	}
	for _, name := range critestMetrics {
		if !seen[name] {
			t.Errorf("%s is not described", name)
		}
	}
}

// checkSamples fails t for each metric of out that is not described or whose label values are not
// as many as its descriptor's label keys, and returns the metrics by name and label values.
func checkSamples(t *testing.T, out []*runtimeapi.Metric) map[string]uint64 {
	t.Helper()
	got := map[string]uint64{}
	for _, m := range out {
		d, ok := metricsByName[m.GetName()]
		if !ok {
			t.Errorf("%s is not described", m.GetName())
			continue
		}
		if n := len(baseLabels) + len(d.labels); len(m.GetLabelValues()) != n {
			t.Errorf("%s has %d label values %q, its descriptor %d keys", m.GetName(), len(m.GetLabelValues()), m.GetLabelValues(), n)
		}
		if want := map[bool]runtimeapi.MetricType{true: runtimeapi.MetricType_COUNTER, false: runtimeapi.MetricType_GAUGE}[d.counter]; m.GetMetricType() != want {
			t.Errorf("%s is a %v, want %v", m.GetName(), m.GetMetricType(), want)
		}
		key := strings.Join(append([]string{m.GetName()}, m.GetLabelValues()[len(baseLabels):]...), " ")
		got[key] = m.GetValue().GetValue()
	}
	return got
}
