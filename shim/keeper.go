package shim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	runc "github.com/containerd/go-runc"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// report is the single line a keeper writes to the pipe corrald gave it as stdout.
type report struct {
	Pid   uint32 `json:"pid,omitempty"`
	Error string `json:"error,omitempty"`
}

// Keep is the keeper's body, run in its own session: create the container from the work dir's
// Config, report the init pid (0 if the init runs only once started: lxc) or the runtime's error on
// out, then reap the init, clean up the runtime's state and record the exit status before answering
// waiters. It returns when done.
// Keep may run once per process: it reaps every child of the process and owns go-runc's Monitor.
func Keep(ctx context.Context, dir string, out *os.File) error {
	c, err := ReadConfig(dir)
	if err != nil {
		return sendReport(out, report{Error: err.Error()})
	}
	ctx = log.WithLogger(ctx, log.G(ctx).WithField("id", c.ID).WithField("namespace", c.Namespace))
	pid, k, err := create(ctx, dir, c)
	if err != nil {
		return sendReport(out, report{Error: err.Error()})
	}
	if err := sendReport(out, report{Pid: pid}); err != nil {
		log.G(ctx).WithError(err).Warn("failed to report init pid; corrald will find it in the work dir")
	}
	return k.keep(ctx)
}

type keeper struct {
	dir   string
	c     *Config
	drv   driver
	init  *process
	procs processes
	srv   *server
	r     *reaper
	initC chan runc.Exit
}

// driver runs the container for the keeper: runcDriver (runc.go) or lxcDriver (lxc.go).
type driver interface {
	// create creates the container with the init's stdio and sets the keeper's initC. It returns the
	// init pid, or 0 if the init runs only once started.
	create(ctx context.Context) (int, error)
	// start starts a created container's init and returns its pid (OpStart).
	start(ctx context.Context) (int, error)
	// kill signals the init, or with req.All every process of the container (OpKill).
	kill(ctx context.Context, req Request) error
	// signalExec sends sig to the running exec id, process p.
	signalExec(ctx context.Context, id string, p *process, sig int) error
	// exec starts an exec process with stdio sio and returns its pid and a channel for its exit.
	exec(ctx context.Context, req Request, sio *stdio, dir string) (int, chan runc.Exit, error)
	// exited runs once the init has exited, before stdio is drained: it ends what outlives the init.
	exited(ctx context.Context)
	// cleanup runs last, before the exit is recorded: it removes the runtime's state.
	cleanup(ctx context.Context)
}

func create(ctx context.Context, dir string, c *Config) (_ uint32, _ *keeper, retErr error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return 0, nil, fmt.Errorf("failed to become a subreaper: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ShimPIDFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return 0, nil, err
	}
	k := &keeper{dir: dir, c: c, r: newReaper(), init: &process{done: make(chan struct{})}}
	k.procs.m = map[string]*process{"": k.init}
	spec, err := readSpec(c.Bundle)
	if err != nil {
		return 0, nil, err
	}
	switch c.Driver {
	case DriverRunc:
		k.drv = newRuncDriver(k, spec)
	case DriverLXC:
		if k.drv, err = newLXCDriver(k); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, fmt.Errorf("unknown keeper driver %q", c.Driver)
	}
	var uid, gid int
	if spec.Process != nil {
		uid, gid = int(spec.Process.User.UID), int(spec.Process.User.GID)
	}
	if k.init.io, err = newStdio(ctx, c, uid, gid); err != nil {
		return 0, nil, fmt.Errorf("failed to set up stdio: %w", err)
	}
	defer func() {
		if retErr != nil {
			k.init.io.drain(0)
		}
	}()
	if k.srv, err = listen(c.Socket); err != nil {
		return 0, nil, err
	}
	k.srv.k = k
	pid, err := k.drv.create(ctx)
	if err != nil {
		k.srv.close()
		return 0, nil, err
	}
	return uint32(pid), k, nil
}

// keep waits for the init to exit and cleans up in the order that keeps the status safe:
// kill the rest, drain stdio, delete runtime state, write the exit file, then answer waiters.
func (k *keeper) keep(ctx context.Context) error {
	go k.srv.serve(ctx)
	e := <-k.initC
	exited := time.Now()
	k.drv.exited(ctx)
	k.init.io.drain(k.c.IODrain)
	k.waitExecs()
	k.drv.cleanup(ctx)
	k.init.exit = Exit{Pid: uint32(e.Pid), Status: uint32(e.Status), ExitedAt: exited}
	if err := WriteExit(k.dir, k.init.exit); err != nil {
		log.G(ctx).WithError(err).Error("failed to record exit status")
	}
	close(k.init.done)
	k.srv.exit()
	return nil
}

// waitExecs gives the execs, killed with the container, time to be reaped and drained.
func (k *keeper) waitExecs() {
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

func readSpec(bundle string) (*specs.Spec, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("failed to parse %s: %w", filepath.Join(bundle, "config.json"), err)
	}
	return &s, nil
}

func sendReport(out *os.File, r report) error {
	b, _ := json.Marshal(r)
	_, err := out.Write(append(b, '\n'))
	out.Close()
	if r.Error != "" {
		return fmt.Errorf("%s", strings.TrimSpace(r.Error))
	}
	return err
}
