// Package engine is the engine layer of the lcr runtime family. An engine is a named set of container
// operations on one low-level technology (iSulad's engine_operation), loaded once at corrald start. This
// package holds what engines share: how loading went, and the states and statistics they report. The
// only engine is stock LXC driven through its command-line tools, in engine/lcr.
package engine

// Engine is an engine as loaded at corrald start.
type Engine struct {
	// Name is the engine's name, "lcr".
	Name string
	// Version is the version of the technology it drives, as its tools report it; empty if unavailable.
	Version string
	// Unavailable, when set, says why the engine cannot run containers on this host.
	Unavailable error
}

// State is a container's state as an engine reports it. The values are LXC's.
type State string

// The container states of LXC (lxc-info --state).
const (
	Stopped  State = "STOPPED"
	Starting State = "STARTING"
	Running  State = "RUNNING"
	Stopping State = "STOPPING"
	Aborting State = "ABORTING"
	Freezing State = "FREEZING"
	Frozen   State = "FROZEN"
	Thawed   State = "THAWED"
)

// Stats is a container's resource usage, read from its cgroups. A limit of 0 means no limit; a
// counter the host's cgroups do not keep is 0.
type Stats struct {
	CPU    CPUStats    `json:"cpu"`
	Memory MemoryStats `json:"memory"`
	Pids   PidsStats   `json:"pids"`
	IO     IOStats     `json:"io"`
}

// CPUStats is CPU time used by the container, in nanoseconds, and CFS's bandwidth counters.
type CPUStats struct {
	// UsageNanos is the CPU time consumed by all its processes; UserNanos and SystemNanos split it.
	UsageNanos  uint64 `json:"usage_nanos"`
	UserNanos   uint64 `json:"user_nanos,omitempty"`
	SystemNanos uint64 `json:"system_nanos,omitempty"`
	// Periods counts the enforcement periods elapsed, ThrottledPeriods those in which the container
	// was throttled, and ThrottledNanos the time it was.
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttled_periods,omitempty"`
	ThrottledNanos   uint64 `json:"throttled_nanos,omitempty"`
}

// MemoryStats is the container's memory use, in bytes.
type MemoryStats struct {
	Usage    uint64 `json:"usage"`
	MaxUsage uint64 `json:"max_usage,omitempty"`
	Limit    uint64 `json:"limit"`
	// Failcnt counts the times the usage hit the limit (cgroup v1).
	Failcnt uint64 `json:"failcnt,omitempty"`
	// SwapUsage is memory and swap in use (v1's memsw), KernelUsage the kernel's memory (v1's kmem).
	SwapUsage   uint64 `json:"swap_usage,omitempty"`
	KernelUsage uint64 `json:"kernel_usage,omitempty"`
	// Stat is the cgroup's memory.stat, by key.
	Stat map[string]uint64 `json:"stat,omitempty"`
}

// PidsStats counts the container's tasks.
type PidsStats struct {
	Current uint64 `json:"current"`
	Limit   uint64 `json:"limit"`
}

// IOStats is the block I/O the container's processes caused, per device and operation (Read,
// Write, Sync, Async, Discard, Total), as cgroup v1's blkio counts it.
type IOStats struct {
	ServiceBytes []IOEntry `json:"service_bytes,omitempty"`
	Serviced     []IOEntry `json:"serviced,omitempty"`
}

// IOEntry is one counter of a block device.
type IOEntry struct {
	Major uint64 `json:"major"`
	Minor uint64 `json:"minor"`
	Op    string `json:"op"`
	Value uint64 `json:"value"`
}
