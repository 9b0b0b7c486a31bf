package shim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"
	"github.com/containerd/log"
	"golang.org/x/sys/unix"
)

// kill signals the command; with All every process of the container but LXC's init. Killing a
// created container ends it with the status of that signal, as if its init had received it.
func (d *lxcDriver) kill(_ context.Context, signal int, all bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	sig := unix.Signal(signal)
	switch d.state {
	case lxcCreated:
		if signal == 0 || ignoredByDefault(sig) {
			return nil
		}
		d.state = lxcEnded
		close(d.ended)
		d.k.init.io.releaseContainerEnds()
		d.k.initC <- runc.Exit{Status: 128 + signal}
		return nil
	case lxcEnded:
		return fmt.Errorf("process already finished: %w", errdefs.ErrNotFound)
	}
	if all {
		procs, _ := d.cg.Procs()
		for _, p := range procs {
			if p != d.lxcInit && p != d.k.init.pid {
				_ = unix.Kill(p, sig)
			}
		}
	}
	var err error = unix.ESRCH
	if d.pidfd >= 0 {
		err = unix.PidfdSendSignal(d.pidfd, sig, nil, 0)
	}
	if errors.Is(err, unix.ESRCH) {
		if all {
			err = nil
		} else {
			err = fmt.Errorf("process already finished: %w", errdefs.ErrNotFound)
		}
	}
	if sig == unix.SIGKILL {
		d.thaw()
	}
	return err
}

// ignoredByDefault are the signals a process without handlers does not die of.
func ignoredByDefault(sig unix.Signal) bool {
	return sig == unix.SIGCHLD || sig == unix.SIGCONT || sig == unix.SIGURG || sig == unix.SIGWINCH
}

// killOrphans waits for the command to exit, then kills every other process of the container but
// LXC's init, which then exits with the command's status.
func (d *lxcDriver) killOrphans(pid int) {
	d.mu.Lock()
	fd := d.pidfd
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		unix.Close(fd)
		d.pidfd = -1
		d.mu.Unlock()
	}()
	for {
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 100)
		if n > 0 {
			break
		}
		select {
		case <-d.ended:
			return
		default:
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
	}
	d.killContainer(d.lxcInit)
}

// killContainer SIGKILLs the container's processes but except, until none is left or lxc-execute
// has exited; a frozen container is thawed so that the processes can die.
func (d *lxcDriver) killContainer(except int) {
	deadline := time.Now().Add(d.k.c.IODrain + 5*time.Second)
	for time.Now().Before(deadline) {
		procs, _ := d.cg.Procs()
		left := 0
		for _, p := range procs {
			if p != except {
				_ = unix.Kill(p, unix.SIGKILL)
				left++
			}
		}
		if left == 0 {
			return
		}
		d.thaw()
		if except == 0 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		select {
		case <-d.ended:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// thaw thaws a frozen container so that its killed processes can die.
func (d *lxcDriver) thaw() {
	if d.cg.Frozen() {
		if err := d.cg.Thaw(); err != nil {
			log.L.WithError(err).WithField("id", d.k.c.ID).Warn("failed to thaw the container to kill it")
		}
	}
}

// exited, after lxc-execute has exited, kills what is left in the container's cgroup (a container
// without a pid namespace of its own leaves its orphans).
func (d *lxcDriver) exited(context.Context) { d.killContainer(0) }

// cleanup removes the cgroups LXC left, the container's and its monitor's, once nothing runs in them.
func (d *lxcDriver) cleanup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.k.c.CallTimeout)
	defer cancel()
	if err := killCgroups(ctx, d.c); err != nil {
		return fmt.Errorf("failed to remove the cgroups LXC left of %s: %w", d.c.Name, err)
	}
	return nil
}

// signalExec signals an lxc-attach exec directly: lxc-attach forwards signals to the attached process.
func (d *lxcDriver) signalExec(_ context.Context, id string, p *process, sig int) error {
	return signalProcess(p, id, sig)
}
