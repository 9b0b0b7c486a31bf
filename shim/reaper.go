package shim

import (
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"time"

	runc "github.com/containerd/go-runc"
	"golang.org/x/sys/unix"
)

// reaper reaps every child of the keeper (a child subreaper) and hands each exit to whoever waits
// for that pid. It implements go-runc's ProcessMonitor so runtime invocations are reaped by it too.
type reaper struct {
	mu      sync.Mutex
	waiting map[int]chan runc.Exit
	exited  map[int]runc.Exit // exits nobody waited for yet
}

var _ runc.ProcessMonitor = (*reaper)(nil)

func newReaper() *reaper {
	r := &reaper{waiting: map[int]chan runc.Exit{}, exited: map[int]runc.Exit{}}
	ch := make(chan os.Signal, 32)
	signal.Notify(ch, unix.SIGCHLD)
	go func() {
		for range ch {
			r.reap()
		}
	}()
	return r
}

func (r *reaper) reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
		status := ws.ExitStatus()
		if ws.Signaled() {
			status = 128 + int(ws.Signal())
		}
		r.mu.Lock()
		e := runc.Exit{Pid: pid, Status: status}
		if ch, ok := r.waiting[pid]; ok {
			delete(r.waiting, pid)
			ch <- e
		} else {
			r.exited[pid] = e
		}
		r.mu.Unlock()
	}
}

// subscribe returns a channel that receives pid's exit, even if it was reaped already.
// The caller must hold r.mu.
func (r *reaper) subscribeLocked(pid int) chan runc.Exit {
	ch := make(chan runc.Exit, 1)
	if e, ok := r.exited[pid]; ok {
		delete(r.exited, pid)
		ch <- e
		return ch
	}
	r.waiting[pid] = ch
	return ch
}

// waitPid returns a channel that receives pid's exit.
func (r *reaper) waitPid(pid int) chan runc.Exit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.subscribeLocked(pid)
}

// killGrace is how long a runtime invocation's output is read after it was killed at its deadline,
// or exited, while a process it started still holds the pipes.
const killGrace = time.Second

// Start starts c and subscribes to its exit before the reap loop can see it. A command in a process
// group of its own (every runtime invocation) is killed as a group when its context ends, and its
// pipes are not waited on for more than killGrace after it is gone.
func (r *reaper) Start(c *exec.Cmd) (chan runc.Exit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.SysProcAttr != nil && (c.SysProcAttr.Setpgid || c.SysProcAttr.Setsid) {
		c.Cancel = func() error { return unix.Kill(-c.Process.Pid, unix.SIGKILL) }
	}
	c.WaitDelay = killGrace
	if err := c.Start(); err != nil {
		return nil, err
	}
	return r.subscribeLocked(c.Process.Pid), nil
}

// StartLocked is Start; the keeper sets no parent-death signal on runtime invocations.
func (r *reaper) StartLocked(c *exec.Cmd) (chan runc.Exit, error) { return r.Start(c) }

// Wait waits for c's exit, then for its I/O copying to finish.
func (r *reaper) Wait(c *exec.Cmd, ec chan runc.Exit) (int, error) {
	e := <-ec
	_ = c.Wait() // the process is already reaped; this only flushes c's I/O goroutines.
	return e.Status, nil
}
