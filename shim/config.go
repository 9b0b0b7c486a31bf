// Package shim is corral-shim, the keeper: one process per container that serves containerd's task
// API (containerd.task.v2.Task) over ttrpc, runs the container with a driver (a runc-compatible
// binary, or LXC through engine/lcr), holds its stdio, reaps it, records its exit status durably in
// the bundle and publishes task events. It is a shim v2 as containerd defines one: corrald and
// containerd start it with the `start` bootstrap and clean up after it with `delete`.
package shim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	runc "github.com/containerd/go-runc"

	"github.com/corral-dev/corral/api/keeper"
)

// Files in a keeper's work dir, the task's bundle.
const (
	ConfigFile  = "shim.json"    // Config, written at Create for the delete bootstrap
	ShimPIDFile = "shim.pid"     // the keeper's pid
	InitPIDFile = "init.pid"     // the container's init pid (runc --pid-file)
	ExitFile    = "exit"         // the init's Exit, written before it is reported
	RuntimeLog  = "log.json"     // runc --log, JSON lines
	RuntimeRoot = "runc"         // per-container runc --root
	LXCPath     = "lxc"          // the lxc driver's lxcpath: <name>/config is the container's LXC config
	LXCLog      = "lxc.log"      // LXC's log, errors only
	AddressFile = "address"      // the keeper's socket as unix://path, as containerd's shims write it
	logFifo     = "log"          // the keeper's stderr when its launcher made it a FIFO
	shimLogFile = "shim.log"     // the keeper's stderr otherwise
	execDir     = "exec"         // <execDir>/<exec id>/ holds an exec's files
	internalPID = "internal-pid" // where runsc writes an exec's pid inside the sandbox
)

// Config is what one keeper runs: the task, its stdio and the driver's options.
type Config struct {
	Namespace string `json:"namespace"`
	ID        string `json:"id"`
	Bundle    string `json:"bundle"`
	keeper.Options
	Stdin    string `json:"stdin,omitempty"`
	Stdout   string `json:"stdout,omitempty"`
	Stderr   string `json:"stderr,omitempty"`
	Terminal bool   `json:"terminal,omitempty"`
	// Rootfs is set when the keeper mounted Create's rootfs mounts on <bundle>/rootfs.
	Rootfs bool `json:"rootfs,omitempty"`
	// LXC configures the lxc driver.
	LXC *LXCConfig `json:"lxc,omitempty"`
	// RuntimeRoot, if set, is the runtime's --root instead of the keeper's own <work dir>/RuntimeRoot:
	// a gVisor container of a CRI pod runs in the pod's sandbox, whose keeper's root it shares.
	RuntimeRoot string `json:"runtime_root,omitempty"`
}

// LXCConfig is what the lxc driver runs: lxc-execute of the container Name, whose config is
// <work dir>/LXCPath/<Name>/config, with Args as its command.
type LXCConfig struct {
	Name string   `json:"name"`
	Args []string `json:"args"`
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

// Runtime returns the go-runc client for the container's runtime, with its root (its own in the work
// dir dir, or c.RuntimeRoot) and its JSON log in dir.
func Runtime(dir string, c *Config) *runc.Runc {
	root := c.RuntimeRoot
	if root == "" {
		root = filepath.Join(dir, RuntimeRoot)
	}
	return &runc.Runc{
		Command:   c.Binary,
		Root:      root,
		Log:       filepath.Join(dir, RuntimeLog),
		LogFormat: runc.JSON,
		Setpgid:   true,
		ExtraArgs: c.Args,
	}
}
