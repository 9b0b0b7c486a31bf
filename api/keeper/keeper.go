// Package keeper is what corrald and corral-shim agree on beyond containerd's task API, which the
// keeper serves over ttrpc: the options corrald passes in a task's Create, and the environment of the
// shim's start bootstrap. It is the only package linked into both processes.
package keeper

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/types/known/anypb"
)

// OptionsTypeURL is the type URL of Options carried in CreateTaskRequest.Options (JSON-encoded).
const OptionsTypeURL = "io.corral.keeper.v1.Options"

// EnvSocketDir names the directory where `corral-shim start` creates the keeper's socket. Without
// it the keeper uses DefaultSocketDir, as containerd's shims do.
const EnvSocketDir = "CORRAL_SHIM_SOCKET_DIR"

// DefaultSocketDir is where containerd's shims put their sockets.
const DefaultSocketDir = "/run/containerd/s"

// Drivers: what runs a keeper's container.
const (
	// DriverRunc runs a runc-compatible binary (runc, runsc, crun…).
	DriverRunc = "runc"
	// DriverLXC runs stock LXC: lxc-execute for the init, lxc-attach for execs.
	DriverLXC = "lxc"
)

// Options tell a keeper how to run its container.
type Options struct {
	// Driver is DriverRunc or DriverLXC.
	Driver string `json:"driver"`
	// Binary is the runc-compatible runtime and Args its global arguments (before the subcommand).
	Binary string   `json:"binary,omitempty"`
	Args   []string `json:"args,omitempty"`
	// LXCTools is the directory of the lxc-* tools; empty means $PATH.
	LXCTools string `json:"lxc_tools,omitempty"`
	// CreateTimeout bounds a runtime's create (lxc: the start of the container or of an exec);
	// CallTimeout every other runtime call; IODrain how long the keeper reads a process's output
	// after it exited while other processes still hold it.
	CreateTimeout time.Duration `json:"create_timeout,omitempty"`
	CallTimeout   time.Duration `json:"call_timeout,omitempty"`
	IODrain       time.Duration `json:"io_drain,omitempty"`
	// Log, if set, is the log file the keeper writes the init's output to, besides the client's
	// FIFOs, which it then relays to without ever blocking on them.
	Log *LogFile `json:"log,omitempty"`
}

// LogFile is a container's log: where the keeper writes it, and how.
type LogFile struct {
	Path string `json:"path"`
	Log
}

// Defaults of the timeouts when Options leave them zero (a keeper run by containerd).
const (
	DefaultCreateTimeout = 30 * time.Second
	DefaultCallTimeout   = 10 * time.Second
	DefaultIODrain       = 2 * time.Second
)

// WithDefaults returns o with zero timeouts set to their defaults.
func (o Options) WithDefaults() Options {
	if o.CreateTimeout == 0 {
		o.CreateTimeout = DefaultCreateTimeout
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.IODrain == 0 {
		o.IODrain = DefaultIODrain
	}
	return o
}

// Any encodes o for CreateTaskRequest.Options.
func (o *Options) Any() (*anypb.Any, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	return &anypb.Any{TypeUrl: OptionsTypeURL, Value: b}, nil
}

// FromAny decodes Options from a; ok is false when a holds something else (or nothing), such as the
// runc options containerd's clients send.
func FromAny(a *anypb.Any) (o Options, ok bool, _ error) {
	if a == nil || a.GetTypeUrl() != OptionsTypeURL {
		return o, false, nil
	}
	if err := json.Unmarshal(a.GetValue(), &o); err != nil {
		return o, false, fmt.Errorf("failed to parse keeper options: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	switch o.Driver {
	case DriverRunc, DriverLXC:
	default:
		return o, false, fmt.Errorf("keeper driver %q: accepted are %q and %q: %w", o.Driver, DriverRunc, DriverLXC, errdefs.ErrInvalidArgument)
	}
	return o, true, nil
}

// OOMFile, in the bundle, holds the time of the container's last OOM kill (RFC 3339); it exists
// only once the kernel's OOM killer has killed a process of the container.
const OOMFile = "oom"
