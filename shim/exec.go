package shim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// process is the init or an exec: its pid, stdio, and exit once it is reaped.
type process struct {
	pid  int
	io   *stdio
	done chan struct{} // closed once exit is set
	exit Exit
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
		return nil, fmt.Errorf("no process %q", id)
	}
	return p, nil
}

// serve answers one request.
func (k *keeper) serve(ctx context.Context, req Request) (Exit, error) {
	switch req.Op {
	case OpExec:
		pid, err := k.exec(ctx, req)
		return Exit{Pid: uint32(pid)}, err
	case OpStart:
		pid, err := k.drv.start(ctx)
		return Exit{Pid: uint32(pid)}, err
	}
	p, err := k.procs.get(req.ExecID)
	if err != nil {
		return Exit{}, err
	}
	switch req.Op {
	case OpWait:
		select {
		case <-p.done:
			return p.exit, nil
		case <-k.srv.done:
			<-p.done // the keeper finishes every process before it exits
			return p.exit, nil
		}
	case OpCloseStdin:
		p.io.closeStdin()
		return Exit{}, nil
	case OpKill:
		if req.ExecID == "" {
			return Exit{}, k.drv.kill(ctx, req)
		}
		return Exit{}, k.drv.signalExec(ctx, req.ExecID, p, req.Signal)
	case OpDeleteExec:
		select {
		case <-p.done:
		default:
			return Exit{}, fmt.Errorf("exec %q is still running", req.ExecID)
		}
		k.procs.mu.Lock()
		delete(k.procs.m, req.ExecID)
		k.procs.mu.Unlock()
		return Exit{}, os.RemoveAll(filepath.Join(k.dir, "exec", req.ExecID))
	}
	return Exit{}, fmt.Errorf("unknown request %q", req.Op)
}

// exec starts an additional process through the driver and watches its exit.
func (k *keeper) exec(ctx context.Context, req Request) (int, error) {
	if req.ExecID == "" || req.Process == nil {
		return 0, fmt.Errorf("exec needs an id and a process")
	}
	k.procs.mu.Lock()
	_, dup := k.procs.m[req.ExecID]
	k.procs.mu.Unlock()
	if dup {
		return 0, fmt.Errorf("exec %q already exists", req.ExecID)
	}
	dir := filepath.Join(k.dir, "exec", req.ExecID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	sio, err := newStdio(context.WithoutCancel(ctx), &Config{Stdin: req.Stdin, Stdout: req.Stdout, Stderr: req.Stderr},
		int(req.Process.User.UID), int(req.Process.User.GID))
	if err != nil {
		return 0, err
	}
	pid, exited, err := k.drv.exec(ctx, req, sio, dir)
	if err != nil {
		sio.drain(0)
		os.RemoveAll(dir)
		return 0, err
	}
	p := &process{pid: pid, io: sio, done: make(chan struct{})}
	k.procs.mu.Lock()
	k.procs.m[req.ExecID] = p
	k.procs.mu.Unlock()
	go func() {
		e := <-exited
		at := time.Now()
		p.io.drain(k.c.IODrain)
		p.exit = Exit{Pid: uint32(pid), Status: uint32(e.Status), ExitedAt: at}
		close(p.done)
	}()
	return pid, nil
}

// signalProcess sends sig to p, the process id, unless it has finished.
func signalProcess(p *process, id string, sig int) error {
	select {
	case <-p.done:
		return fmt.Errorf("process %q already finished", id)
	default:
	}
	if p.pid <= 0 {
		return fmt.Errorf("process %q has not started", id)
	}
	return unix.Kill(p.pid, unix.Signal(sig))
}
