package commands

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"
)

// resourcesTypeURL is the type URL of OCI LinuxResources carried, JSON-encoded, in Tasks.Update.
const resourcesTypeURL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"

// CPUPeriod is the CFS period, in microseconds, that --cpus sets the quota against.
const CPUPeriod = 100000

// ParseResources returns the OCI resources that --memory, --cpus and --pids-limit ask for; "" and 0
// leave them unset. The memory is in bytes, or with a k, m or g suffix (powers of 1024); the CPUs a
// share such as 1.5, at least 0.01, set as a CFS quota per CPUPeriod.
func ParseResources(memory string, cpus float64, pids int64) (*specs.LinuxResources, error) {
	res := &specs.LinuxResources{}
	if memory != "" {
		n, err := units.RAMInBytes(memory)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("invalid --memory %q: want a size such as 64m: %w", memory, errdefs.ErrInvalidArgument)
		}
		res.Memory = &specs.LinuxMemory{Limit: &n}
	}
	if cpus < 0 || cpus > 0 && cpus*CPUPeriod < 1000 {
		return nil, fmt.Errorf("invalid --cpus %v: want at least 0.01: %w", cpus, errdefs.ErrInvalidArgument)
	}
	if cpus > 0 {
		quota, period := int64(cpus*CPUPeriod), uint64(CPUPeriod)
		res.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}
	if pids < 0 {
		return nil, fmt.Errorf("invalid --pids-limit %d: want a number of processes above 0: %w", pids, errdefs.ErrInvalidArgument)
	}
	if pids > 0 {
		res.Pids = &specs.LinuxPids{Limit: &pids}
	}
	return res, nil
}

// Update changes the resources of running task id, such as its memory limit.
func (c *Client) Update(ctx context.Context, id string, res *specs.LinuxResources) error {
	value, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("failed to encode resources of task %s: %w", id, err)
	}
	req := &tasksapi.UpdateTaskRequest{ContainerID: id, Resources: &anypb.Any{TypeUrl: resourcesTypeURL, Value: value}}
	if _, err := c.Tasks.Update(ctx, req); err != nil {
		return fmt.Errorf("failed to update task %s: %w", id, err)
	}
	return nil
}

// Stat is a task's resource usage.
type Stat struct {
	ID string `json:"id"`
	// CPU is the CPU time used, in nanoseconds.
	CPU uint64 `json:"cpu_ns"`
	// MemoryUsage and MemoryLimit are in bytes.
	MemoryUsage uint64 `json:"memory_usage"`
	MemoryLimit uint64 `json:"memory_limit"`
	// Pids counts the task's processes and threads; PidsLimit is their limit, 0 for none.
	Pids      uint64 `json:"pids"`
	PidsLimit uint64 `json:"pids_limit"`
}

// Stats returns the resource usage of the tasks ids, or of every task of the namespace if none.
func (c *Client) Stats(ctx context.Context, ids ...string) ([]Stat, error) {
	req := &tasksapi.MetricsRequest{}
	for _, id := range ids { // filters are alternatives; within one, "," would join conditions
		req.Filters = append(req.Filters, "id=="+id)
	}
	resp, err := c.Tasks.Metrics(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("failed to get metrics: %w", err)
	}
	list := []Stat{}
	for _, m := range resp.Metrics {
		s, err := decodeMetric(m)
		if err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, nil
}

// decodeMetric decodes a task metric holding containerd's cgroup v1 metrics.
func decodeMetric(m *types.Metric) (Stat, error) {
	var v1 stats.Metrics
	if !m.Data.MessageIs(&v1) {
		return Stat{}, fmt.Errorf("metrics of task %s are %q, not cgroup v1 metrics: %w", m.ID, m.Data.GetTypeUrl(), errdefs.ErrNotImplemented)
	}
	if err := m.Data.UnmarshalTo(&v1); err != nil {
		return Stat{}, fmt.Errorf("failed to decode metrics of task %s: %w", m.ID, err)
	}
	return Stat{
		ID:          m.ID,
		CPU:         v1.CPU.GetUsage().GetTotal(),
		MemoryUsage: v1.Memory.GetUsage().GetUsage(),
		MemoryLimit: v1.Memory.GetUsage().GetLimit(),
		Pids:        v1.Pids.GetCurrent(),
		PidsLimit:   v1.Pids.GetLimit(),
	}, nil
}
