package shim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-dev/corral/engine/lcr"
)

// exec runs the exec process with lxc-attach, the keeper's child: lxc-attach's exit status is the
// process's. The pid is the attached process's (lxc-attach's child in the container), which is what
// a kill signals.
// LXC logs the attach to the exec's dir, so that its errors are the exec's own.
func (d *lxcDriver) exec(ctx context.Context, id string, p *specs.Process, sio *stdio, dir string) (int, chan runc.Exit, error) {
	d.mu.Lock()
	running := d.state == lxcStarted && d.pidfd >= 0
	root := fmt.Sprintf("/proc/%d/root", d.k.init.pid)
	d.mu.Unlock()
	if !running {
		return 0, nil, fmt.Errorf("container %s is not running: %w", d.c.Name, errdefs.ErrFailedPrecondition)
	}
	spec, err := readSpec(d.k.c.Bundle)
	if err != nil {
		return 0, nil, err
	}
	if err := lcr.CheckExec(p, spec.Process); err != nil {
		return 0, nil, err
	}
	tio, afterStart, err := sio.toolIO()
	if err != nil {
		return 0, nil, err
	}
	opts := &lcr.AttachOpts{Args: p.Args, Env: p.Env, UID: p.User.UID, GID: p.User.GID, IO: tio}
	if err := attachDir(opts, p.Cwd, root); err != nil {
		return 0, nil, err
	}
	started, done := make(chan int, 1), make(chan execResult, 1)
	opts.Started = started
	l := *d.l
	l.LogFile = filepath.Join(dir, LXCLog)
	go func() {
		status, err := l.Attach(context.Background(), d.c.Name, opts)
		done <- execResult{status, err}
	}()
	var attach int
	select {
	case attach = <-started:
	case r := <-done:
		return 0, nil, r.err
	}
	afterStart()
	setRlimits(attach, p.Rlimits)
	exited := make(chan runc.Exit, 1)
	deadline := time.After(d.k.c.CreateTimeout)
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 10*time.Millisecond) {
		procs, _ := d.cg.Procs()
		if pid := attached(attach, procs, d.lxcInit); pid != 0 {
			setRlimits(pid, p.Rlimits)
			go func() {
				r := <-done
				if r.err != nil {
					log.G(ctx).WithError(r.err).WithField("exec_id", id).Warn("LXC reported an error")
				}
				exited <- runc.Exit{Pid: pid, Status: r.status}
			}()
			return pid, exited, nil
		}
		select {
		case r := <-done: // done before it could be seen in the container
			if r.err != nil {
				return 0, nil, r.err
			}
			exited <- runc.Exit{Pid: attach, Status: r.status}
			return attach, exited, nil
		case <-deadline:
			_ = unix.Kill(-attach, unix.SIGKILL) // lxc-attach leads its process group
			<-done
			return 0, nil, fmt.Errorf("lxc-attach exec %s did not finish within %s: %w", id, d.k.c.CreateTimeout, context.DeadlineExceeded)
		case <-time.After(delay):
		}
	}
}

// attached finds the process lxc-attach runs among the container's processes procs: a child of
// lxc-attach, but not its transient child, which LXC also moves into the container's cgroup and which
// exits once it has cloned the attached process. The attached process is in the container's pid
// namespace (that of LXC's init, lxcInit), or, in a container without one of its own, has exec'd
// its command, which the transient process never does.
func attached(attach int, procs []int, lxcInit int) int {
	in := map[int]bool{}
	for _, p := range procs {
		in[p] = true
	}
	self, _ := os.Readlink("/proc/self/ns/pid")
	initNS, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", lxcInit))
	attachExe, _ := os.Stat(fmt.Sprintf("/proc/%d/exe", attach))
	for _, c := range children(attach) {
		if !in[c] {
			continue
		}
		if ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c)); initNS != "" && initNS != self && ns == initNS {
			return c
		}
		if exe, err := os.Stat(fmt.Sprintf("/proc/%d/exe", c)); err == nil && attachExe != nil && !os.SameFile(exe, attachExe) {
			return c
		}
	}
	return 0
}

// attachDir makes the process start in cwd. Stock lxc-attach has no option for it: LXC changes into
// the path of lxc-attach's own working directory inside the container. So lxc-attach runs in cwd
// when the host has that same directory; otherwise the command runs through the container's /bin/sh,
// which changes directory first. root is the container's root, seen from the host.
func attachDir(o *lcr.AttachOpts, cwd, root string) error {
	if cwd == "" || cwd == "/" {
		o.Dir = "/"
		return nil
	}
	if fi, err := os.Stat(filepath.Join(root, cwd)); err != nil || !fi.IsDir() {
		return fmt.Errorf("exec cwd %s is not a directory in the container: %w", cwd, errdefs.ErrInvalidArgument)
	}
	if real, err := filepath.EvalSymlinks(cwd); err == nil && real == cwd {
		if fi, err := os.Stat(cwd); err == nil && fi.IsDir() {
			o.Dir = cwd
			return nil
		}
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "sh")); err != nil {
		return fmt.Errorf("exec cwd %s: lxc-attach cannot change into a directory the host lacks, and the container has no /bin/sh to do it: %w", cwd, errdefs.ErrNotImplemented)
	}
	o.Args = append([]string{"/bin/sh", "-c", `cd "$1" && shift && exec "$@"`, "sh", cwd}, o.Args...)
	o.Dir = "/"
	return nil
}

// rlimitResources maps OCI rlimit names to resources.
var rlimitResources = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_DATA": unix.RLIMIT_DATA,
	"RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS, "RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK,
	"RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_STACK": unix.RLIMIT_STACK,
}

// setRlimits applies the exec's rlimits to pid: lxc-attach, which has no option for them, right after
// it starts, and its child, the attached process, once found.
func setRlimits(pid int, rls []specs.POSIXRlimit) {
	for _, r := range rls {
		if res, ok := rlimitResources[r.Type]; ok {
			if err := unix.Prlimit(pid, res, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}, nil); err != nil {
				log.L.WithError(err).WithField("pid", pid).WithField("rlimit", r.Type).Warn("failed to set an exec rlimit")
			}
		}
	}
}
