package cri

import (
	"context"
	"slices"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// baseLabels are the label keys of every metric, cAdvisor's: the container's name in its pod, its
// cgroup, its image, its id, its pod's namespace and name. A pod's own metrics leave container,
// image and name empty.
var baseLabels = []string{"container", "id", "image", "name", "namespace", "pod"}

// metricDesc is a metric the CRI reports, in cAdvisor's name, help and labels.
type metricDesc struct {
	name, help string
	counter    bool     // its samples are counters, else gauges
	labels     []string // its label keys after baseLabels
}

// secs notes on the help of a metric in seconds that CRI metric values are integers.
const secs = " (whole seconds: CRI metric values are integers)"

// Label keys of metrics per interface, filesystem, block device operation and so on.
var (
	ifaceLabels = []string{"interface"}
	fsLabels    = []string{"device"}
	blkioLabels = []string{"device", "major", "minor", "operation"}
)

// metricDescs are the metrics ListPodSandboxMetrics reports. Those of the pod's network are
// pod-level; the others are each container's.
var metricDescs = []metricDesc{
	{"container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds" + secs, true, nil},
	{"container_cpu_user_seconds_total", "Cumulative user cpu time consumed in seconds" + secs, true, nil},
	{"container_cpu_system_seconds_total", "Cumulative system cpu time consumed in seconds" + secs, true, nil},
	{"container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.", true, nil},
	{"container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals.", true, nil},
	{"container_cpu_cfs_throttled_seconds_total", "Total time duration the container has been throttled" + secs, true, nil},

	{"container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed.", false, nil},
	{"container_memory_working_set_bytes", "Current working set in bytes: the usage less the inactive page cache.", false, nil},
	{"container_memory_max_usage_bytes", "Maximum memory usage recorded in bytes.", false, nil},
	{"container_memory_rss", "Size of RSS in bytes.", false, nil},
	{"container_memory_cache", "Number of bytes of page cache memory.", false, nil},
	{"container_memory_mapped_file", "Size of memory mapped files in bytes.", false, nil},
	{"container_memory_kernel_usage", "Size of kernel memory allocated in bytes.", false, nil},
	{"container_memory_swap", "Container swap usage in bytes.", false, nil},
	{"container_memory_failcnt", "Number of memory usage hits limits.", true, nil},
	{"container_memory_failures_total", "Cumulative count of memory allocation failures.", true, []string{"failure_type", "scope"}},
	{"container_oom_events_total", "Count of out of memory events observed for the container.", true, nil},
	{"container_hugetlb_usage_bytes", "Hugepages usage in bytes.", false, []string{"pagesize"}},
	{"container_hugetlb_max_usage_bytes", "Hugepages max usage in bytes.", false, []string{"pagesize"}},

	{"container_network_receive_bytes_total", "Cumulative count of bytes received.", true, ifaceLabels},
	{"container_network_receive_packets_total", "Cumulative count of packets received.", true, ifaceLabels},
	{"container_network_receive_packets_dropped_total", "Cumulative count of packets dropped while receiving.", true, ifaceLabels},
	{"container_network_receive_errors_total", "Cumulative count of errors encountered while receiving.", true, ifaceLabels},
	{"container_network_transmit_bytes_total", "Cumulative count of bytes transmitted.", true, ifaceLabels},
	{"container_network_transmit_packets_total", "Cumulative count of packets transmitted.", true, ifaceLabels},
	{"container_network_transmit_packets_dropped_total", "Cumulative count of packets dropped while transmitting.", true, ifaceLabels},
	{"container_network_transmit_errors_total", "Cumulative count of errors encountered while transmitting.", true, ifaceLabels},

	{"container_fs_usage_bytes", "Number of bytes that are consumed by the container on this filesystem.", false, fsLabels},
	{"container_fs_limit_bytes", "Number of bytes that can be consumed by the container on this filesystem.", false, fsLabels},
	{"container_fs_inodes_total", "Number of Inodes.", false, fsLabels},
	{"container_fs_inodes_free", "Number of available Inodes.", false, fsLabels},
	{"container_fs_reads_bytes_total", "Cumulative count of bytes read.", true, fsLabels},
	{"container_fs_reads_total", "Cumulative count of reads completed.", true, fsLabels},
	{"container_fs_writes_bytes_total", "Cumulative count of bytes written.", true, fsLabels},
	{"container_fs_writes_total", "Cumulative count of writes completed.", true, fsLabels},
	{"container_blkio_device_usage_total", "Blkio device bytes usage.", true, blkioLabels},

	{"container_processes", "Number of processes running inside the container.", false, nil},
	{"container_threads", "Number of threads running inside the container.", false, nil},
	{"container_threads_max", "Maximum number of threads allowed inside the container, infinity if value is zero.", false, nil},
	{"container_file_descriptors", "Number of open file descriptors for the container.", false, nil},
	{"container_sockets", "Number of open sockets for the container.", false, nil},
	{"container_ulimits_soft", "Soft ulimit values for the container root process.", false, []string{"ulimit"}},

	{"container_spec_cpu_period", "CPU period of the container.", false, nil},
	{"container_spec_cpu_quota", "CPU quota of the container.", false, nil},
	{"container_spec_cpu_shares", "CPU share of the container.", false, nil},
	{"container_spec_memory_limit_bytes", "Memory limit for the container.", false, nil},
	{"container_spec_memory_reservation_limit_bytes", "Memory reservation limit for the container.", false, nil},
	{"container_spec_memory_swap_limit_bytes", "Memory swap limit for the container.", false, nil},

	{"container_start_time_seconds", "Start time of the container since unix epoch in seconds.", false, nil},
	{"container_last_seen", "Last time a container was seen by the exporter.", false, nil},
}

// metricsByName indexes metricDescs.
var metricsByName = func() map[string]metricDesc {
	m := make(map[string]metricDesc, len(metricDescs))
	for _, d := range metricDescs {
		m[d.name] = d
	}
	return m
}()

// ListMetricDescriptors implements the CRI: every metric ListPodSandboxMetrics reports.
func (s *Service) ListMetricDescriptors(context.Context, *runtimeapi.ListMetricDescriptorsRequest) (*runtimeapi.ListMetricDescriptorsResponse, error) {
	resp := &runtimeapi.ListMetricDescriptorsResponse{}
	for _, d := range metricDescs {
		resp.Descriptors = append(resp.Descriptors, &runtimeapi.MetricDescriptor{Name: d.name, Help: d.help,
			LabelKeys: append(slices.Clone(baseLabels), d.labels...)})
	}
	return resp, nil
}

// samples gathers the metrics of a container or pod, with its base label values.
type samples struct {
	now    int64 // UnixNano
	labels []string
	out    []*runtimeapi.Metric
}

// add adds a sample of metric name with the values of its own labels.
func (s *samples) add(name string, v uint64, labels ...string) {
	typ := runtimeapi.MetricType_GAUGE
	if metricsByName[name].counter {
		typ = runtimeapi.MetricType_COUNTER
	}
	s.out = append(s.out, &runtimeapi.Metric{Name: name, Timestamp: s.now, MetricType: typ,
		LabelValues: append(slices.Clone(s.labels), labels...), Value: &runtimeapi.UInt64Value{Value: v}})
}
