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

// Stats is a container's resource usage, read from its cgroups. A limit of 0 means no limit.
type Stats struct {
	CPU    CPUStats    `json:"cpu"`
	Memory MemoryStats `json:"memory"`
	Pids   PidsStats   `json:"pids"`
}

// CPUStats is CPU time used by the container.
type CPUStats struct {
	// UsageNanos is the CPU time consumed by all its processes, in nanoseconds.
	UsageNanos uint64 `json:"usage_nanos"`
}

// MemoryStats is the container's memory use, in bytes.
type MemoryStats struct {
	Usage    uint64 `json:"usage"`
	MaxUsage uint64 `json:"max_usage,omitempty"`
	Limit    uint64 `json:"limit"`
}

// PidsStats counts the container's tasks.
type PidsStats struct {
	Current uint64 `json:"current"`
	Limit   uint64 `json:"limit"`
}
