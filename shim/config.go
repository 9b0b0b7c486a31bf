// Package shim is corral-shim, the keeper of the shim v1 and lcr families: one detached process per
// container that runs it (with a runc-compatible binary, or with LXC's tools for lcr), holds the
// container's stdio, reaps it, records its exit status in the work dir and reports it to corrald over a
// unix socket. It also holds the client side of that protocol.
package shim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	runc "github.com/containerd/go-runc"
)

// Files in a keeper's work dir.
const (
	ConfigFile  = "shim.json" // Config, written by corrald
	ShimPIDFile = "shim.pid"  // the keeper's pid
	InitPIDFile = "init.pid"  // the container's init pid (runc --pid-file)
	ExitFile    = "exit"      // the init's Exit, written before it is reported
	RuntimeLog  = "log.json"  // runc --log, JSON lines
	ShimLog     = "shim.log"  // the keeper's own log
	RuntimeRoot = "runc"      // per-container runc --root
	LXCPath     = "lxc"       // the lxc driver's lxcpath: <name>/config is the container's LXC config
	LXCLog      = "lxc.log"   // LXC's log, errors only
)

// Drivers of a keeper: what runs the container.
const (
	// DriverRunc runs Config.Binary, a runc-compatible runtime; it is the default ("").
	DriverRunc = ""
	// DriverLXC runs stock LXC: lxc-execute at start, lxc-attach for execs.
	DriverLXC = "lxc"
)

// Config tells a keeper what to run. corrald writes it to ConfigFile in the work dir.
type Config struct {
	Namespace string `json:"namespace"`
	ID        string `json:"id"`
	Bundle    string `json:"bundle"`
	// Binary is the runc-compatible runtime and Args its global arguments (before the subcommand).
	Binary string   `json:"binary"`
	Args   []string `json:"args,omitempty"`
	// Socket is where the keeper serves wait and close-stdin requests.
	Socket string `json:"socket"`
	Stdin  string `json:"stdin,omitempty"`
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
	// CreateTimeout bounds `<runtime> create` (lxc: the start of the container, or of an exec);
	// IODrain bounds the stdio drain after exit.
	CreateTimeout time.Duration `json:"create_timeout"`
	IODrain       time.Duration `json:"io_drain"`
	// Driver is DriverRunc or DriverLXC.
	Driver string `json:"driver,omitempty"`
	// LXC configures DriverLXC.
	LXC *LXCConfig `json:"lxc,omitempty"`
}

// LXCConfig is what DriverLXC runs: lxc-execute of the container Name, whose config is
// <work dir>/LXCPath/<Name>/config, with Args as its command.
type LXCConfig struct {
	Name string   `json:"name"`
	Args []string `json:"args"`
	// Tools is the directory of the lxc-* tools.
	Tools string `json:"tools"`
	// Cgroup is the container's cgroup directory, relative to the hierarchy roots
	// (lxc.cgroup.dir.container); LXC's monitor is in Cgroup + lcr.MonitorSuffix.
	Cgroup string `json:"cgroup"`
}

// WriteConfig stores c in the work dir dir.
func WriteConfig(dir string, c *Config) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ConfigFile), b, 0o600)
}

// ReadConfig loads the Config of the work dir dir.
func ReadConfig(dir string) (*Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("failed to parse %s: %w", filepath.Join(dir, ConfigFile), err)
	}
	return &c, nil
}

// Runtime returns the go-runc client for the container's runtime, with its per-container root and
// JSON log in the work dir dir.
func Runtime(dir string, c *Config) *runc.Runc {
	return &runc.Runc{
		Command:   c.Binary,
		Root:      filepath.Join(dir, RuntimeRoot),
		Log:       filepath.Join(dir, RuntimeLog),
		LogFormat: runc.JSON,
		Setpgid:   true,
		ExtraArgs: c.Args,
	}
}
