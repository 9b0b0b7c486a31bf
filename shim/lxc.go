package shim

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-dev/corral/engine/lcr"
)

// lxcDriver runs the container with stock LXC. Created, the container is only its config and the
// keeper's stdio; start runs lxc-execute, the keeper's child, which returns the command's exit
// status. The command runs under LXC's init (pid 1 of the container, which forwards signals and
// waits for orphans), and is what corrald knows as the init: its pid is the task's pid, signals go
// to it, and once it exits everything else in the container is killed, as the kernel does when the
// pid 1 of a runc container exits.
type lxcDriver struct {
	k   *container
	l   *lcr.LXC
	c   *LXCConfig
	cg  *lcr.Cgroup // the container's
	mon *lcr.Cgroup // LXC's monitor's: lxc-execute

	mu      sync.Mutex
	state   lxcState
	lxcInit int // LXC's init, the command's parent
	pidfd   int // the command's, once started
	ended   chan struct{}
}

type lxcState int

const (
	lxcCreated lxcState = iota
	lxcStarted
	lxcEnded // lxc-execute has exited, or the container was killed before it started
)

func newLXCDriver(k *container, spec *specs.Spec) (*lxcDriver, error) {
	h, err := lcr.LoadHierarchies()
	if err != nil {
		return nil, err
	}
	if k.c.LXC == nil {
		if k.c.LXC, err = writeLXCConfig(k.dir, k.c, spec, h); err != nil {
			return nil, err
		}
	}
	c := k.c.LXC
	l := &lcr.LXC{Path: filepath.Join(k.dir, LXCPath), Dir: k.c.LXCTools, LogFile: filepath.Join(k.dir, LXCLog), Monitor: lxcMonitor{k.r}}
	return &lxcDriver{k: k, l: l, c: c, cg: h.Cgroup(c.Cgroup), mon: h.Cgroup(c.Cgroup + lcr.MonitorSuffix),
		pidfd: -1, ended: make(chan struct{})}, nil
}

// create checks the container's config is in place; the init runs only at start.
func (d *lxcDriver) create(context.Context) (int, error) {
	if _, err := os.Stat(filepath.Join(d.l.Path, d.c.Name, "config")); err != nil {
		return 0, fmt.Errorf("no LXC config for %s: %w", d.c.Name, err)
	}
	d.k.initC = make(chan runc.Exit, 1)
	return 0, nil
}

// execResult is how lxc-execute or lxc-attach ended.
type execResult struct {
	status int
	err    error
}

// start runs lxc-execute and returns the command's pid once it runs. If LXC fails to set up the
// container, its error is returned and the container has ended with lxc-execute's status.
func (d *lxcDriver) start(ctx context.Context) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch d.state {
	case lxcStarted:
		return 0, fmt.Errorf("container %s has started already: %w", d.c.Name, errdefs.ErrFailedPrecondition)
	case lxcEnded:
		return 0, fmt.Errorf("container %s has stopped: %w", d.c.Name, errdefs.ErrFailedPrecondition)
	}
	tio, afterStart, err := d.k.init.io.toolIO()
	if err != nil {
		return 0, err
	}
	d.state = lxcStarted
	started, done := make(chan int, 1), make(chan execResult, 1)
	go func() {
		// lxc-execute lives as long as the container: no request's context may cancel it.
		// The container dies with its keeper: nobody else could report its exit.
		status, err := d.l.Execute(context.Background(), d.c.Name, &lcr.ExecuteOpts{Args: d.c.Args, IO: tio,
			Started: started, PdeathSignal: unix.SIGKILL})
		done <- execResult{status, err}
	}()
	var monitor int
	select {
	case monitor = <-started:
	case r := <-done:
		go d.end(0, execResult{255, r.err})
		return 0, r.err
	}
	afterStart()
	ctx, cancel := context.WithTimeout(ctx, d.k.c.CreateTimeout)
	defer cancel()
	pid, r, err := d.discover(ctx, monitor, done)
	if err != nil {
		_ = unix.Kill(-monitor, unix.SIGKILL) // LXC's init dies with its monitor, which leads its process group
		go func() { d.end(pid, <-done) }()
		return 0, err
	}
	if r != nil { // lxc-execute is done already
		go d.end(pid, *r)
		if r.err != nil {
			return 0, r.err
		}
		return pid, nil
	}
	d.k.init.pid = pid
	if err := os.WriteFile(filepath.Join(d.k.dir, InitPIDFile), []byte(strconv.Itoa(pid)), 0o600); err != nil {
		log.G(ctx).WithError(err).Warn("failed to write init pid file")
	}
	go d.killOrphans(pid)
	go func() { d.end(pid, <-done) }()
	return pid, nil
}

// discover finds LXC's init, the child of lxc-execute in the container's cgroup, then the command:
// the first child of LXC's init that leads a session of its own. LXC's init forks other children
// before it, which exit soon: those running the container's hooks (lxc.hook.mount, as for a
// read-only rootfs, runs /bin/sh while LXC sets the container up). Only the command's process calls
// setsid, before it execs the command (lxc_container_init). discover returns early, with how
// lxc-execute ended, if it ends first. It watches the cgroup for OOM kills from when LXC's init is
// in it.
func (d *lxcDriver) discover(ctx context.Context, monitor int, done chan execResult) (int, *execResult, error) {
	best := 0
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 10*time.Millisecond) {
		procs, _ := d.cg.Procs()
		if d.lxcInit == 0 {
			d.lxcInit = firstChildIn(monitor, procs, nil)
			best = d.lxcInit
			if d.lxcInit != 0 {
				d.k.watchOOM(ctx, d.lxcInit) // before the command runs, in the cgroup LXC removes at its exit
			}
		}
		if d.lxcInit != 0 {
			if pid := firstChildIn(d.lxcInit, procs, leadsSession); pid != 0 {
				fd, err := unix.PidfdOpen(pid, 0)
				if err == nil {
					d.pidfd = fd
					return pid, nil, nil
				}
			}
		}
		select {
		case r := <-done:
			return best, &r, nil
		case <-ctx.Done():
			return best, nil, fmt.Errorf("lxc-execute start of %s did not finish within %s: %w", d.c.Name, d.k.c.CreateTimeout, context.DeadlineExceeded)
		case <-time.After(delay):
		}
	}
}

// end delivers the init's exit once lxc-execute has exited.
func (d *lxcDriver) end(pid int, r execResult) {
	if r.err != nil {
		log.L.WithError(r.err).WithField("id", d.k.c.ID).Warn("LXC reported an error")
	}
	d.mu.Lock()
	d.state = lxcEnded
	d.mu.Unlock()
	close(d.ended)
	d.k.initC <- runc.Exit{Pid: pid, Status: r.status}
}

// lxcMonitor lets the keeper's reaper start and reap the LXC tools.
type lxcMonitor struct{ r *reaper }

func (m lxcMonitor) Start(c *exec.Cmd) (chan lcr.Exit, error) {
	ec, err := m.r.Start(c)
	if err != nil {
		return nil, err
	}
	out := make(chan lcr.Exit, 1)
	go func() {
		e := <-ec
		out <- lcr.Exit{Pid: e.Pid, Status: e.Status}
	}()
	return out, nil
}

func (m lxcMonitor) Wait(c *exec.Cmd, ec chan lcr.Exit) (int, error) {
	e := <-ec
	_ = c.Wait() // already reaped: this only ends c's I/O copying
	return e.Status, nil
}
