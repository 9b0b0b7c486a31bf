package shim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	runc "github.com/containerd/go-runc"
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
	if req.Op == OpExec {
		pid, err := k.exec(ctx, req)
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
		select {
		case <-p.done:
			return Exit{}, fmt.Errorf("process %q already finished", req.ExecID)
		default:
		}
		return Exit{}, unix.Kill(p.pid, unix.Signal(req.Signal))
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

// exec runs `<runtime> exec --detach` for an additional process and watches its exit.
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
	cctx, cancel := context.WithTimeout(ctx, k.c.CreateTimeout)
	defer cancel()
	logPath := filepath.Join(k.dir, RuntimeLog)
	from := LogSize(logPath)
	pidFile := filepath.Join(dir, "pid")
	if err := k.rt.Exec(cctx, k.c.ID, *req.Process, &runc.ExecOpts{PidFile: pidFile, IO: sio.rio, Detach: true}); err != nil {
		sio.drain(0)
		os.RemoveAll(dir)
		return 0, RuntimeError(err, logPath, from)
	}
	pid, err := runc.ReadPidFile(pidFile)
	if err != nil {
		sio.drain(0)
		return 0, err
	}
	p := &process{pid: pid, io: sio, done: make(chan struct{})}
	exited := k.r.waitPid(pid)
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
