// Package lcr is the runtime family for the name "lcr": LXC containers through the engine layer. The
// container's OCI spec is translated into an LXC config (engine/lcr) and run by a corral-shim keeper
// with its lxc driver: lxc-execute at start, lxc-attach for execs. Pause, resume, update and the
// container's processes and statistics are done by corrald with the LXC tools and cgroups.
package lcr

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	lxc "github.com/corral-dev/corral/engine/lcr"
	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/shim"
)

// Name is the only runtime name this family runs.
const Name = "lcr"

// Runtime runs lcr containers.
type Runtime struct {
	shim.Keepers
	host *lxc.Host
}

var _ runtime.Ops = (*Runtime)(nil)

// Opts configure the family.
type Opts struct {
	// Host is the loaded lcr engine; nil when LXC cannot run here (the family is then unavailable).
	Host *lxc.Host
	// Keeper configures the corral-shim keepers the containers run under.
	Keeper shim.KeeperOpts
}

// New returns the lcr family.
func New(o Opts) *Runtime {
	return &Runtime{
		Keepers: shim.Keepers{Unsupported: runtime.Unsupported{Family: "lcr"}, KeeperOpts: o.Keeper},
		host:    o.Host,
	}
}

// Detect accepts exactly "lcr", in any case.
func (*Runtime) Detect(name string) bool { return strings.EqualFold(name, Name) }

// client is corrald's side of the task's keeper.
func (r *Runtime) client(t runtime.Task) *shim.Client { return r.KeeperOf(t) }

// Create translates the spec into the LXC config <work dir>/lxc/<id>/config and starts the keeper,
// which holds the container's stdio until Start runs lxc-execute. A spec field LXC cannot express
// fails here, naming the field; on failure nothing is left behind.
func (r *Runtime) Create(ctx context.Context, o runtime.CreateOpts) (_ uint32, retErr error) {
	if r.host == nil {
		return 0, fmt.Errorf("the lcr engine is not loaded: %w", errdefs.ErrFailedPrecondition)
	}
	if o.Terminal {
		return 0, fmt.Errorf("terminal for runtime %s: %w", o.Runtime.Name, errdefs.ErrNotImplemented)
	}
	spec, err := readSpec(o.Bundle)
	if err != nil {
		return 0, err
	}
	cfg, err := lxc.Translate(spec, lxc.TranslateOpts{CgroupV2: r.host.Cgroups.V2(), CgroupDir: path.Join("corral", o.Namespace, o.ID)})
	if err != nil {
		return 0, fmt.Errorf("failed to translate the spec into an LXC config: %w", err)
	}
	cgroup := cfg.Value("lxc.cgroup.dir.container")
	if err := r.freeCgroups(cgroup); err != nil {
		return 0, err
	}
	if err := checkCommand(spec); err != nil {
		return 0, err
	}
	kc := r.client(o.Task)
	if err := kc.MakeWorkDir(); err != nil {
		return 0, err
	}
	defer func() {
		if retErr != nil {
			_ = kc.Remove()
		}
	}()
	confDir := filepath.Join(kc.Dir, shim.LXCPath, o.ID)
	if err := os.MkdirAll(confDir, 0o700); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(confDir, "config"), cfg.Marshal(), 0o600); err != nil {
		return 0, err
	}
	c := &shim.Config{
		Namespace: o.Namespace, ID: o.ID, Bundle: o.Bundle, Socket: kc.Socket,
		Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr,
		CreateTimeout: r.CreateTimeout, IODrain: r.IODrain,
		Driver: shim.DriverLXC,
		LXC: &shim.LXCConfig{Name: o.ID, Args: spec.Process.Args, Tools: r.host.Dir,
			Cgroup: cgroup},
	}
	if err := shim.WriteConfig(kc.Dir, c); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.KeeperDeadline())
	defer cancel()
	return shim.Start(ctx, r.ShimBinary, kc.Dir)
}

// freeCgroups makes sure LXC can create the container's cgroup and its monitor's: it will not
// reuse one. Empty ones, which a container killed with its monitor leaves, are removed; ones with
// processes belong to a running container.
func (r *Runtime) freeCgroups(dir string) error {
	for _, d := range []string{dir, dir + lxc.MonitorSuffix} {
		cg := r.host.Cgroups.Cgroup(d)
		pids, err := cg.Procs()
		if err != nil {
			return err
		}
		if len(pids) > 0 {
			return fmt.Errorf("cgroup %s is in use by processes %v (linux.cgroupsPath must be the container's own): %w", d, pids, errdefs.ErrAlreadyExists)
		}
		// Only a leaf is a leftover of ours; a tree may hold other users' cgroups.
		if nested, err := cg.HasChildren(); err != nil {
			return err
		} else if nested {
			return fmt.Errorf("cgroup %s exists and has child cgroups (linux.cgroupsPath must be the container's own): %w", d, errdefs.ErrAlreadyExists)
		}
		if err := cg.Remove(); err != nil {
			return err
		}
	}
	return nil
}

func readSpec(bundle string) (*specs.Spec, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("container spec is not a valid OCI spec: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	return &s, nil
}

// Start has the keeper run lxc-execute for the init, or lxc-attach for an exec.
func (r *Runtime) Start(ctx context.Context, t runtime.Task, execID string) (uint32, error) {
	kc := r.client(t)
	if execID != "" {
		return r.Execs.Start(ctx, kc, execID)
	}
	ctx, cancel := context.WithTimeout(ctx, r.KeeperDeadline())
	defer cancel()
	e, err := shim.Call(ctx, kc.Socket, shim.Request{Op: shim.OpStart})
	if err != nil {
		return 0, fmt.Errorf("failed to start container %s: %w", t.ID, err)
	}
	return e.Pid, nil
}

// Kill has the keeper signal the init (the container's command), every process, or an exec.
func (r *Runtime) Kill(ctx context.Context, t runtime.Task, o runtime.KillOpts) error {
	kc := r.client(t)
	_, err := kc.Call(ctx, shim.Request{Op: shim.OpKill, ExecID: o.ExecID, Signal: int(o.Signal), All: o.All})
	if err != nil && o.ExecID == "" && kc.Finished() {
		return fmt.Errorf("process already finished: %w", errdefs.ErrNotFound)
	}
	return err
}
