// Package config holds corrald's TOML configuration: its types, defaults and validation.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/api/keeper"
)

// MaxRuntimeArgs is the largest number of runtime_args a runtime may have.
const MaxRuntimeArgs = 50

// Config is corrald's configuration file.
type Config struct {
	// Version is the config format version; only 1 exists.
	Version int `toml:"version"`
	// Root holds persistent data: the metadata db and bundles. Default /var/lib/corral.
	Root string `toml:"root"`
	// State holds volatile data: shim work dirs and sockets. Default /run/corral.
	State string `toml:"state"`
	// DefaultRuntime is used when a request names none; empty means "lcr".
	DefaultRuntime string `toml:"default_runtime"`
	// ShimPath is the corral-shim binary; empty means next to corrald, then $PATH.
	ShimPath string `toml:"shim_path"`
	// LogLevel is one of trace, debug, info, warn, error. Default info.
	LogLevel string `toml:"log_level"`
	// GRPC configures the client API listener.
	GRPC GRPC `toml:"grpc"`
	// Timeouts bounds every call corrald makes to a runtime or keeper.
	Timeouts Timeouts `toml:"timeouts"`
	// Log sets the defaults of the log files of containers that run detached.
	Log keeper.Log `toml:"log"`
	// Restart is the back-off of restart policies.
	Restart Restart `toml:"restart"`
	// Runtimes maps a runtime name to its binary and arguments.
	Runtimes map[string]Runtime `toml:"runtimes"`
	// CRI configures the Kubernetes CRI.
	CRI CRI `toml:"cri"`

	// Path is the file the configuration was read from; empty for none. It is not a key.
	Path string `toml:"-"`
}

// GRPC configures the containerd-API listener.
type GRPC struct {
	// Address is the unix socket path. Default <state>/corrald.sock.
	Address string `toml:"address"`
}

// Runtime is one [runtimes.NAME] table.
type Runtime struct {
	// Path is the runtime binary; empty means the name looked up on $PATH.
	Path string `toml:"path"`
	// RuntimeArgs go before the runtime's subcommand (at most 50).
	RuntimeArgs []string `toml:"runtime_args"`
}

// Duration is a time.Duration written as a string such as "30s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. \"30s\"): %w", b, err)
	}
	if v <= 0 {
		return fmt.Errorf("invalid duration %q: must be positive", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Timeouts names every timeout corrald applies.
type Timeouts struct {
	// RuntimeCreate bounds the keeper's start-up and `<runtime> create`. Default 60s.
	RuntimeCreate Duration `toml:"runtime_create"`
	// RuntimeCall bounds any other single runtime invocation (start, kill, ps, pause, ...). Default 30s.
	RuntimeCall Duration `toml:"runtime_call"`
	// IODrain bounds how long a keeper drains stdio after the container exits. Default 5s.
	IODrain Duration `toml:"io_drain"`
	// Shutdown bounds corrald's graceful shutdown. Default 10s.
	Shutdown Duration `toml:"shutdown"`
	// ShimConnect bounds dialing a shim v2 and its Connect call at restore. Default 5s.
	ShimConnect Duration `toml:"shim_connect"`
	// ShimCleanup bounds the `delete` subcommand of a dead shim v2. Default 5s.
	ShimCleanup Duration `toml:"shim_cleanup"`
	// AutoRemove is how long corrald leaves a container run with --rm after its task exited and no
	// client waits for it, before it removes it. Default 2s.
	AutoRemove Duration `toml:"auto_remove"`
	// StreamIdle is how long a CRI exec, attach or port-forward stream may stay idle before the
	// streaming server closes it. Default 4h, as kubelet's.
	StreamIdle Duration `toml:"stream_idle"`
}

// Restart is the back-off between the restarts of a task by its container's restart policy.
type Restart struct {
	// Backoff is the delay before a restart. Default 100ms.
	Backoff Duration `toml:"backoff"`
	// MaxBackoff caps the delay, which doubles for every restart of a task that ran less than
	// ResetAfter. Default 1m.
	MaxBackoff Duration `toml:"max_backoff"`
	// ResetAfter is how long a task must run for the delay to go back to Backoff. Default 10s.
	ResetAfter Duration `toml:"reset_after"`
}

// Default returns the configuration used when no file is given.
func Default() *Config {
	return &Config{
		Version:  1,
		Root:     "/var/lib/corral",
		State:    "/run/corral",
		LogLevel: "info",
		GRPC:     GRPC{Address: "/run/corral/corrald.sock"},
		Timeouts: Timeouts{
			RuntimeCreate: Duration{60 * time.Second},
			RuntimeCall:   Duration{30 * time.Second},
			IODrain:       Duration{5 * time.Second},
			Shutdown:      Duration{10 * time.Second},
			ShimConnect:   Duration{5 * time.Second},
			ShimCleanup:   Duration{5 * time.Second},
			AutoRemove:    Duration{2 * time.Second},
			StreamIdle:    Duration{4 * time.Hour},
		},
		Restart: Restart{
			Backoff:    Duration{100 * time.Millisecond},
			MaxBackoff: Duration{time.Minute},
			ResetAfter: Duration{10 * time.Second},
		},
		Log:      keeper.DefaultLog(),
		Runtimes: map[string]Runtime{},
		CRI:      defaultCRI(),
	}
}

// DefaultPath is the file corrald reads when no --config is given, if it exists.
const DefaultPath = "/etc/corral/config.toml"

// Load reads the file at path over the defaults. If the file is optional, a missing one gives the
// defaults.
func Load(path string, optional bool) (*Config, error) {
	c := Default()
	b, err := os.ReadFile(path)
	if optional && errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read config %s: %w", path, err)
	}
	if err := c.decode(b); err != nil {
		return nil, fmt.Errorf("failed to load config %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

func (c *Config) decode(b []byte) error {
	md, err := toml.Decode(string(b), c)
	if err != nil {
		return fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = k.String()
		}
		return fmt.Errorf("unknown key %s: %w", strings.Join(names, ", "), errdefs.ErrInvalidArgument)
	}
	// Runtime names are case-insensitive: store them lower-cased.
	rts := make(map[string]Runtime, len(c.Runtimes))
	for name, rt := range c.Runtimes {
		l := strings.ToLower(name)
		if _, dup := rts[l]; dup {
			return fmt.Errorf("runtime %q configured twice (names are case-insensitive): %w", name, errdefs.ErrInvalidArgument)
		}
		rts[l] = rt
	}
	c.Runtimes = rts
	return c.Validate()
}

// Validate checks values that decoding alone cannot.
func (c *Config) Validate() error {
	if c.Version != 1 {
		return fmt.Errorf("unsupported config version %d (accepted: 1): %w", c.Version, errdefs.ErrInvalidArgument)
	}
	for k, v := range map[string]string{"root": c.Root, "state": c.State, "grpc.address": c.GRPC.Address} {
		if !strings.HasPrefix(v, "/") {
			return fmt.Errorf("%s must be an absolute path, got %q: %w", k, v, errdefs.ErrInvalidArgument)
		}
	}
	switch c.LogLevel {
	case "trace", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level %q is not one of trace, debug, info, warn, error: %w", c.LogLevel, errdefs.ErrInvalidArgument)
	}
	if err := c.Log.Validate(); err != nil {
		return err
	}
	if err := c.CRI.Validate(); err != nil {
		return err
	}
	if c.Restart.MaxBackoff.Duration < c.Restart.Backoff.Duration {
		return fmt.Errorf("restart.max_backoff %s is below restart.backoff %s: %w", c.Restart.MaxBackoff, c.Restart.Backoff, errdefs.ErrInvalidArgument)
	}
	names := make([]string, 0, len(c.Runtimes))
	for n := range c.Runtimes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rt := c.Runtimes[n]
		if n == "" {
			return fmt.Errorf("a [runtimes] entry has an empty name: %w", errdefs.ErrInvalidArgument)
		}
		if len(rt.RuntimeArgs) > MaxRuntimeArgs {
			return fmt.Errorf("runtimes.%s has %d runtime_args, at most %d are accepted: %w", n, len(rt.RuntimeArgs), MaxRuntimeArgs, errdefs.ErrInvalidArgument)
		}
		if rt.Path != "" && !strings.HasPrefix(rt.Path, "/") {
			return fmt.Errorf("runtimes.%s.path must be absolute, got %q: %w", n, rt.Path, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// String renders the configuration as TOML.
func (c *Config) String() string {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		return fmt.Sprintf("# failed to encode config: %v\n", err)
	}
	return buf.String()
}
