package shim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// process is the init or an exec: its pid, stdio, and exit once it is reaped.
type process struct {
	pid     int
	started bool
	io      *stdio
	done    chan struct{} // closed once exit is set
	exit    Exit
	// An exec created but not started yet: what Start runs.
	spec                  *specs.Process
	stdin, stdout, stderr string
}

// processes are a keeper's init and execs, by exec id ("" is the init).
type processes struct {
	mu sync.Mutex
	m  map[string]*process
}

func (ps *processes) get(id string) (*process, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.m[id]
	if !ok {
		return nil, fmt.Errorf("process %q: %w", id, errdefs.ErrNotFound)
	}
	return p, nil
}

// addExec records a created exec; Start runs it.
func (k *container) addExec(id string, spec *specs.Process, stdin, stdout, stderr string) error {
	if id == "" || spec == nil {
		return fmt.Errorf("exec needs an id and a process: %w", errdefs.ErrInvalidArgument)
	}
	select {
	case <-k.init.done:
		return fmt.Errorf("container %s has stopped: %w", k.c.ID, errdefs.ErrFailedPrecondition)
	default:
	}
	k.procs.mu.Lock()
	defer k.procs.mu.Unlock()
	if _, dup := k.procs.m[id]; dup {
		return fmt.Errorf("exec %q: %w", id, errdefs.ErrAlreadyExists)
	}
	k.procs.m[id] = &process{done: make(chan struct{}), spec: spec, stdin: stdin, stdout: stdout, stderr: stderr}
	return nil
}

// startExec starts the created exec id through the driver and watches its exit.
func (k *container) startExec(ctx context.Context, id string) (int, error) {
	p, err := k.procs.get(id)
	if err != nil {
		return 0, err
	}
	k.procs.mu.Lock()
	if p.started {
		k.procs.mu.Unlock()
		return 0, fmt.Errorf("exec %q has started already: %w", id, errdefs.ErrFailedPrecondition)
	}
	p.started = true
	k.procs.mu.Unlock()
	fail := func(err error) (int, error) {
		k.procs.mu.Lock()
		delete(k.procs.m, id)
		k.procs.mu.Unlock()
		return 0, err
	}
	select {
	case <-k.init.done:
		return fail(fmt.Errorf("container %s has stopped: %w", k.c.ID, errdefs.ErrFailedPrecondition))
	default:
	}
	dir := filepath.Join(k.dir, execDir, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	sio, err := newStdio(context.WithoutCancel(ctx), p.stdin, p.stdout, p.stderr, p.spec, nil, int(p.spec.User.UID), int(p.spec.User.GID))
	if err != nil {
		os.RemoveAll(dir)
		return fail(err)
	}
	pid, exited, err := k.drv.exec(ctx, id, p.spec, sio, dir)
	if err != nil {
		sio.drain(0)
		os.RemoveAll(dir)
		return fail(err)
	}
	k.procs.mu.Lock()
	p.pid, p.io = pid, sio
	k.procs.mu.Unlock()
	go func() {
		e := <-exited
		at := time.Now()
		p.io.drain(k.c.IODrain)
		p.exit = Exit{Pid: uint32(pid), Status: uint32(e.Status), ExitedAt: at}
		close(p.done)
		k.exited(id, p)
	}()
	return pid, nil
}

// deleteExec forgets an exec that has exited or never started.
func (k *container) deleteExec(id string) (Exit, error) {
	p, err := k.procs.get(id)
	if err != nil {
		return Exit{}, err
	}
	if p.started {
		select {
		case <-p.done:
		default:
			return Exit{}, fmt.Errorf("exec %q is still running: %w", id, errdefs.ErrFailedPrecondition)
		}
	}
	k.procs.mu.Lock()
	delete(k.procs.m, id)
	k.procs.mu.Unlock()
	return p.exit, os.RemoveAll(filepath.Join(k.dir, execDir, id))
}

// signalProcess sends sig to p, the process id, unless it has finished.
func signalProcess(p *process, id string, sig int) error {
	select {
	case <-p.done:
		return fmt.Errorf("process %q already finished: %w", id, errdefs.ErrNotFound)
	default:
	}
	if p.pid <= 0 {
		return fmt.Errorf("process %q has not started: %w", id, errdefs.ErrFailedPrecondition)
	}
	return unix.Kill(p.pid, unix.Signal(sig))
}
