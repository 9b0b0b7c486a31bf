package shim

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	runc "github.com/containerd/go-runc"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-dev/corral/api/keeper"
)

// runcDriver runs the container with a runc-compatible runtime. Every runtime invocation for the
// container happens here, in the keeper.
type runcDriver struct {
	k  *container
	rt *runc.Runc
	// killAll is set when the container's processes survive its init (no pid namespace of its own).
	killAll bool
	// mu orders start before cleanup.
	mu sync.Mutex
	// gvisor is set for runsc, whose exec pid file names a host-side `runsc exec` process rather than
	// the process in the sandbox: execs are signalled through `runsc kill --pid`.
	gvisor bool
	// inSandbox is set for a gVisor container that runs in its CRI pod's sandbox, the pause
	// container's: it shares the runtime root of the pause's keeper, and its exit is learnt with
	// `runsc wait` (runsc.go), reported once through ended.
	inSandbox bool
	ended     sync.Once
}

func newRuncDriver(k *container, spec *specs.Spec) *runcDriver {
	runc.Monitor = k.r
	d := &runcDriver{k: k, killAll: sharesHostPIDs(spec), gvisor: filepath.Base(k.c.Binary) == "runsc"}
	if sb := podSandbox(k.c.ID, spec); d.gvisor && sb != "" {
		k.c.RuntimeRoot, d.inSandbox, d.killAll = sandboxRoot(k.dir, sb), true, false
	}
	if d.gvisor {
		k.c.Args = gvisorArgs(spec, k.c.Args)
	}
	d.rt = Runtime(k.dir, k.c)
	return d
}

// call runs one runtime invocation bounded by timeout, and tells its failure by the runtime's own
// error line, or by the limit it passed.
func (d *runcDriver) call(ctx context.Context, timeout time.Duration, step string, f func(context.Context) error) error {
	logPath := filepath.Join(d.k.dir, RuntimeLog)
	from := LogSize(logPath)
	err := bounded(ctx, timeout, filepath.Base(d.k.c.Binary), step, f)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return keeper.NoSpace(d.k.dir, RuntimeError(err, logPath, from))
	}
	return err
}

// create runs `<runtime> create`, bounded by the create timeout, and reads the init pid.
func (d *runcDriver) create(ctx context.Context) (int, error) {
	k := d.k
	opts := &runc.CreateOpts{PidFile: filepath.Join(k.dir, InitPIDFile), IO: k.init.io.rio}
	if d.inSandbox {
		opts.IO = nil // the start gets the stdio
	}
	err := d.withConsole(k.init.io, &opts.ConsoleSocket, func() error {
		return d.call(ctx, k.c.CreateTimeout, "create", func(ctx context.Context) error {
			return d.rt.Create(ctx, k.c.ID, k.c.Bundle, opts)
		})
	})
	var pid int
	if err == nil {
		pid, err = runc.ReadPidFile(opts.PidFile)
	}
	if err != nil {
		if derr := d.forceDelete(ctx); derr != nil {
			log.G(ctx).WithError(derr).Warn("failed to delete what a failed create left")
		}
		return 0, err
	}
	if d.inSandbox {
		k.initC = make(chan runc.Exit, 1)
	} else {
		k.initC = k.r.waitPid(pid)
	}
	return pid, nil
}

// withConsole runs a runtime call that starts a process; with a terminal, it passes a console
// socket in *socket and takes over the terminal's master the runtime sends to it.
func (d *runcDriver) withConsole(sio *stdio, socket *runc.ConsoleSocket, call func() error) error {
	if !sio.terminal {
		return call()
	}
	cs, err := runc.NewTempConsoleSocket()
	if err != nil {
		return fmt.Errorf("failed to create a console socket: %w", err)
	}
	defer cs.Close()
	*socket = cs
	if err := call(); err != nil {
		return err
	}
	master, err := cs.ReceiveMaster()
	if err != nil {
		return fmt.Errorf("failed to receive the terminal from %s: %w", filepath.Base(d.k.c.Binary), err)
	}
	sio.setConsole(master)
	return nil
}

// start runs `<runtime> start`; cleanup after a quick exit waits for it to return.
func (d *runcDriver) start(ctx context.Context) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inSandbox {
		return d.k.init.pid, d.startInSandbox(ctx)
	}
	err := d.call(ctx, d.k.c.CallTimeout, "start", func(ctx context.Context) error { return d.rt.Start(ctx, d.k.c.ID) })
	return d.k.init.pid, err
}

// kill runs `<runtime> kill [--all]`. A runtime that cannot signal a container that never started
// (runsc) has SIGKILL's effect through `delete --force`.
func (d *runcDriver) kill(ctx context.Context, sig int, all bool) error {
	err := d.call(ctx, d.k.c.CallTimeout, "kill", func(ctx context.Context) error {
		return d.rt.Kill(ctx, d.k.c.ID, sig, &runc.KillOpts{All: all})
	})
	d.k.mu.Lock()
	started := d.k.init.started
	d.k.mu.Unlock()
	if sig == int(unix.SIGKILL) && !started && (err != nil || d.inSandbox) {
		log.G(ctx).WithError(err).Debug("killing a created container: deleting it by force")
		err = d.forceDelete(ctx)
		if d.inSandbox && err == nil {
			d.k.init.io.releaseContainerEnds()
			d.endInSandbox(runc.Exit{Pid: d.k.init.pid, Status: 128 + sig})
		}
	}
	return err
}

// exec runs `<runtime> exec --detach` and subscribes to the process's exit.
func (d *runcDriver) exec(ctx context.Context, id string, spec *specs.Process, sio *stdio, dir string) (int, chan runc.Exit, error) {
	pidFile := filepath.Join(dir, "pid")
	opts := &runc.ExecOpts{PidFile: pidFile, IO: sio.rio, Detach: true}
	if d.gvisor {
		opts.ExtraArgs = []string{"--internal-pid-file", filepath.Join(dir, internalPID)}
	}
	err := d.withConsole(sio, &opts.ConsoleSocket, func() error {
		return d.call(ctx, d.k.c.CreateTimeout, "exec", func(ctx context.Context) error { return d.rt.Exec(ctx, d.k.c.ID, *spec, opts) })
	})
	if err != nil {
		return 0, nil, err
	}
	pid, err := runc.ReadPidFile(pidFile)
	if err != nil {
		return 0, nil, err
	}
	return pid, d.k.r.waitPid(pid), nil
}

// signalExec signals an exec: directly, or for runsc through `runsc kill --pid` with its pid in the
// sandbox.
func (d *runcDriver) signalExec(ctx context.Context, id string, p *process, sig int) error {
	if !d.gvisor {
		return signalProcess(p, id, sig)
	}
	select {
	case <-p.done:
		return fmt.Errorf("process %q already finished: %w", id, errdefs.ErrNotFound)
	default:
	}
	pid, err := runc.ReadPidFile(filepath.Join(d.k.dir, execDir, id, internalPID))
	if err != nil {
		return err
	}
	return d.call(ctx, d.k.c.CallTimeout, "kill", func(ctx context.Context) error {
		return d.rt.Kill(ctx, d.k.c.ID, sig, &runc.KillOpts{ExtraArgs: []string{"--pid", strconv.Itoa(pid)}})
	})
}

// exited kills what survives an init without a pid namespace of its own.
func (d *runcDriver) exited(ctx context.Context) {
	if !d.killAll {
		return
	}
	if err := d.kill(ctx, int(unix.SIGKILL), true); err != nil {
		log.G(ctx).WithError(err).Debug("kill --all after init exit")
	}
}

// cleanup deletes the runtime's state of the container, once any start has returned.
func (d *runcDriver) cleanup(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.forceDelete(ctx)
}

// forceDelete runs `<runtime> delete --force`, bounded by the call timeout whatever ctx allows.
func (d *runcDriver) forceDelete(ctx context.Context) error {
	err := d.call(context.WithoutCancel(ctx), d.k.c.CallTimeout, "delete", func(ctx context.Context) error {
		return d.rt.Delete(ctx, d.k.c.ID, &runc.DeleteOpts{Force: true})
	})
	if err != nil {
		return fmt.Errorf("failed to delete container %s: %w", d.k.c.ID, err)
	}
	return nil
}

// sharesHostPIDs reports whether the container has no pid namespace of its own, so its other
// processes outlive its init unless killed (with one, the kernel kills them with the init).
func sharesHostPIDs(s *specs.Spec) bool {
	if s.Linux == nil {
		return true
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.PIDNamespace {
			return ns.Path != ""
		}
	}
	return true
}
