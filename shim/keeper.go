package shim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
	task "github.com/containerd/containerd/api/runtime/task/v2"
	apitask "github.com/containerd/containerd/api/types/task"
	runc "github.com/containerd/go-runc"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/shim/logs"
)

// container is the keeper's one container: its driver, its init and its execs.
type container struct {
	dir   string
	c     *Config
	drv   driver
	init  *process
	procs processes
	r     *reaper
	initC chan runc.Exit
	// exited runs once a process's exit is recorded: the init's ("") or an exec's.
	exited func(execID string, p *process)
	// oomKilled runs once the OOM killer's kills are recorded in keeper.OOMFile, until the init's exit.
	oomKilled func()

	mu     sync.Mutex
	paused bool
	oom    *oomWatch // nil until the init runs, and after it exited
	ended  bool      // the init has exited: no OOM watch starts any more
	// dirty is set when the cleanup after the init's exit failed: Delete tries it again.
	dirty bool
}

// driver runs the container for the keeper: runcDriver (runc.go) or lxcDriver (lxc*.go).
type driver interface {
	// create creates the container with the init's stdio and sets initC. It returns the init pid,
	// or 0 if the init runs only once started.
	create(ctx context.Context) (int, error)
	// start starts a created container's init and returns its pid.
	start(ctx context.Context) (int, error)
	// kill signals the init, or with all every process of the container.
	kill(ctx context.Context, sig int, all bool) error
	// signalExec sends sig to the running exec id, process p.
	signalExec(ctx context.Context, id string, p *process, sig int) error
	// exec starts an exec process with stdio sio and returns its pid and a channel for its exit.
	exec(ctx context.Context, id string, spec *specs.Process, sio *stdio, dir string) (int, chan runc.Exit, error)
	// pause and resume freeze and thaw every process of the container.
	pause(ctx context.Context) error
	resume(ctx context.Context) error
	// update changes the container's resource limits.
	update(ctx context.Context, r *specs.LinuxResources) error
	// pids lists the container's processes.
	pids(ctx context.Context) ([]int, error)
	// stats returns the container's resource usage as containerd's cgroup v1 metrics.
	stats(ctx context.Context) (*stats.Metrics, error)
	// exited runs once the init has exited, before stdio is drained: it ends what outlives the init.
	exited(ctx context.Context)
	// cleanup runs last, before the exit is recorded: it removes the runtime's state.
	cleanup(ctx context.Context) error
}

// newContainer sets up the container of c in the work dir dir (the bundle) and creates it with its
// driver. It returns the init pid, 0 if the init runs only once started. exited and oomKilled are the
// container's exited and oomKilled.
func newContainer(ctx context.Context, dir string, c *Config, r *reaper, exited func(string, *process), oomKilled func()) (_ *container, _ int, retErr error) {
	if err := os.WriteFile(filepath.Join(dir, ShimPIDFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, 0, err
	}
	k := &container{dir: dir, c: c, r: r, init: &process{done: make(chan struct{})}, exited: exited, oomKilled: oomKilled}
	k.procs.m = map[string]*process{"": k.init}
	spec, err := readSpec(c.Bundle)
	if err != nil {
		return nil, 0, err
	}
	switch c.Driver {
	case keeper.DriverRunc:
		k.drv = newRuncDriver(k, spec)
	case keeper.DriverLXC:
		if k.drv, err = newLXCDriver(k, spec); err != nil {
			return nil, 0, err
		}
	default:
		return nil, 0, fmt.Errorf("unknown keeper driver %q", c.Driver)
	}
	if err := WriteConfig(dir, c); err != nil {
		return nil, 0, err
	}
	proc := &specs.Process{}
	if spec.Process != nil {
		proc = spec.Process
	}
	proc.Terminal = c.Terminal
	var lw *logs.Writer
	if c.Log != nil {
		if lw, err = logs.NewWriter(c.Log.Path, c.Log.Log); err != nil {
			return nil, 0, err
		}
	}
	if k.init.io, err = newStdio(context.WithoutCancel(ctx), c.Stdin, c.Stdout, c.Stderr, proc, lw, int(proc.User.UID), int(proc.User.GID)); err != nil {
		return nil, 0, fmt.Errorf("failed to set up stdio: %w", err) // which closed the log
	}
	defer func() {
		if retErr != nil {
			k.init.io.drain(0)
		}
	}()
	pid, err := k.drv.create(ctx)
	if err != nil {
		return nil, 0, err
	}
	k.init.pid = pid
	if pid != 0 {
		k.watchOOM(ctx, pid)
	}
	go k.keep(log.WithLogger(context.WithoutCancel(ctx), log.G(ctx)))
	return k, pid, nil
}

// keep waits for the init to exit and cleans up in the order that keeps the status safe:
// kill the rest, drain stdio, delete runtime state, write the exit file, then answer waiters.
func (k *container) keep(ctx context.Context) {
	e := <-k.initC
	exited := time.Now()
	k.mu.Lock()
	k.ended = true
	if k.oom != nil {
		k.oom.stop() // its last look, before the runtime removes the cgroup
		k.oom = nil
	}
	k.mu.Unlock()
	k.drv.exited(ctx)
	k.init.io.drain(k.c.IODrain)
	k.waitExecs()
	if err := k.drv.cleanup(ctx); err != nil {
		log.G(ctx).WithError(err).Warn("failed to delete the runtime's state of the exited container; Delete tries again")
		k.mu.Lock()
		k.dirty = true
		k.mu.Unlock()
	}
	if k.c.Rootfs {
		if err := unmountRootfs(k.c.Bundle); err != nil {
			log.G(ctx).WithError(err).Warn("rootfs left mounted")
		}
	}
	k.init.exit = Exit{Pid: uint32(e.Pid), Status: uint32(e.Status), ExitedAt: exited}
	if err := WriteExit(k.dir, k.init.exit); err != nil {
		log.G(ctx).WithError(err).Error("failed to record exit status")
	}
	close(k.init.done)
	k.exited("", k.init)
}

// watchOOM watches the memory cgroup of pid (the init, or LXC's) for OOM kills until the init has
// exited, and records each in keeper.OOMFile before it runs oomKilled. A container whose cgroup cannot be
// watched runs without: its OOM kills go unreported.
func (k *container) watchOOM(ctx context.Context, pid int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.oom != nil || k.ended {
		return
	}
	w, err := watchOOM(pid, func() {
		if err := os.WriteFile(filepath.Join(k.dir, keeper.OOMFile), []byte(time.Now().UTC().Format(time.RFC3339Nano)), 0o644); err != nil {
			log.G(ctx).WithError(err).Warn("failed to record an OOM kill")
		}
		k.oomKilled()
	})
	if err != nil {
		log.G(ctx).WithError(err).Warn("OOM kills of the container go unreported")
		return
	}
	k.oom = w
}

// oomKills counts the OOM kills the container's watch has seen; 0 without a watch.
func (k *container) oomKills() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.oom == nil {
		return 0
	}
	return k.oom.kills()
}

// cleanAgain runs the driver's cleanup again if the one after the init's exit failed.
func (k *container) cleanAgain(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.dirty {
		return nil
	}
	if err := k.drv.cleanup(ctx); err != nil {
		return err
	}
	k.dirty = false
	return nil
}

// waitExecs gives the execs, killed with the container, time to be reaped and drained.
func (k *container) waitExecs() {
	k.procs.mu.Lock()
	var pending []*process
	for id, p := range k.procs.m {
		if id != "" {
			pending = append(pending, p)
		}
	}
	k.procs.mu.Unlock()
	timeout := time.After(k.c.IODrain)
	for _, p := range pending {
		select {
		case <-p.done:
		case <-timeout:
			return
		}
	}
}

// status is the init's state as containerd's task API names it.
func (k *container) status() *task.StateResponse {
	st := &task.StateResponse{Pid: uint32(k.init.pid)}
	select {
	case <-k.init.done:
		st.Status, st.ExitStatus = apitask.Status_STOPPED, k.init.exit.Status
		st.Pid = k.init.exit.Pid
		return st
	default:
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.init.pid == 0 || !k.init.started:
		st.Status = apitask.Status_CREATED
	case k.paused:
		st.Status = apitask.Status_PAUSED
	default:
		st.Status = apitask.Status_RUNNING
	}
	return st
}

func readSpec(bundle string) (*specs.Spec, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("failed to parse %s: %w", filepath.Join(bundle, "config.json"), err)
	}
	if s.Root != nil {
		s.Root.Path = absRoot(bundle, s.Root.Path)
	}
	return &s, nil
}
