package shim

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"

	runc "github.com/containerd/go-runc"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// runcDriver runs the container with a runc-compatible runtime: `create` in the keeper, `start`,
// `kill`, `pause` and the like by corrald, `exec --detach` in the keeper for execs.
type runcDriver struct {
	k  *keeper
	rt *runc.Runc
	// killAll is set when the container's processes survive its init (no pid namespace of its own).
	killAll bool
	// mu orders start before cleanup.
	mu sync.Mutex
	// gvisor is set for runsc, whose exec pid file names a host-side `runsc exec` process rather than
	// the process in the sandbox: execs are signalled through `runsc kill --pid`.
	gvisor bool
}

// internalPIDFile is where runsc writes an exec's pid inside the sandbox.
const internalPIDFile = "internal-pid"

func newRuncDriver(k *keeper, spec *specs.Spec) *runcDriver {
	runc.Monitor = k.r
	return &runcDriver{k: k, rt: Runtime(k.dir, k.c), killAll: sharesHostPIDs(spec), gvisor: filepath.Base(k.c.Binary) == "runsc"}
}

// create runs `<runtime> create`, bounded by the create timeout, and reads the init pid.
func (d *runcDriver) create(ctx context.Context) (int, error) {
	k := d.k
	cctx, cancel := context.WithTimeout(ctx, k.c.CreateTimeout)
	defer cancel()
	err := d.rt.Create(cctx, k.c.ID, k.c.Bundle, &runc.CreateOpts{PidFile: filepath.Join(k.dir, InitPIDFile), IO: k.init.io.rio})
	if err != nil {
		if cctx.Err() != nil {
			err = fmt.Errorf("%w: gave up after %s", err, k.c.CreateTimeout)
		}
		err = RuntimeError(err, filepath.Join(k.dir, RuntimeLog), 0)
		_ = d.rt.Delete(context.WithoutCancel(ctx), k.c.ID, &runc.DeleteOpts{Force: true})
		return 0, err
	}
	pid, err := runc.ReadPidFile(filepath.Join(k.dir, InitPIDFile))
	if err != nil {
		_ = d.rt.Delete(context.WithoutCancel(ctx), k.c.ID, &runc.DeleteOpts{Force: true})
		return 0, err
	}
	k.init.pid = pid
	k.initC = k.r.waitPid(pid)
	return pid, nil
}

// start runs `<runtime> start`. The keeper runs it, not corrald, so that cleanup after a quick exit
// waits for it instead of deleting the state under it.
func (d *runcDriver) start(ctx context.Context) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	logPath := filepath.Join(d.k.dir, RuntimeLog)
	from := LogSize(logPath)
	if err := d.rt.Start(ctx, d.k.c.ID); err != nil {
		return 0, RuntimeError(err, logPath, from)
	}
	return d.k.init.pid, nil
}

// kill signals the init directly; corrald signals it through the runtime.
func (d *runcDriver) kill(_ context.Context, req Request) error {
	if req.All {
		return errors.New("corrald signals all processes with `<runtime> kill --all`, not the keeper")
	}
	return signalProcess(d.k.init, "", req.Signal)
}

// exec runs `<runtime> exec --detach` and subscribes to the process's exit.
func (d *runcDriver) exec(ctx context.Context, req Request, sio *stdio, dir string) (int, chan runc.Exit, error) {
	k := d.k
	cctx, cancel := context.WithTimeout(ctx, k.c.CreateTimeout)
	defer cancel()
	logPath := filepath.Join(k.dir, RuntimeLog)
	from := LogSize(logPath)
	pidFile := filepath.Join(dir, "pid")
	opts := &runc.ExecOpts{PidFile: pidFile, IO: sio.rio, Detach: true}
	if d.gvisor {
		opts.ExtraArgs = []string{"--internal-pid-file", filepath.Join(dir, internalPIDFile)}
	}
	if err := d.rt.Exec(cctx, k.c.ID, *req.Process, opts); err != nil {
		return 0, nil, RuntimeError(err, logPath, from)
	}
	pid, err := runc.ReadPidFile(pidFile)
	if err != nil {
		return 0, nil, err
	}
	return pid, k.r.waitPid(pid), nil
}

// signalExec signals an exec: directly, or for runsc through `runsc kill --pid` with its pid in the
// sandbox.
func (d *runcDriver) signalExec(ctx context.Context, id string, p *process, sig int) error {
	if !d.gvisor {
		return signalProcess(p, id, sig)
	}
	select {
	case <-p.done:
		return fmt.Errorf("process %q already finished", id)
	default:
	}
	pid, err := runc.ReadPidFile(filepath.Join(d.k.dir, "exec", id, internalPIDFile))
	if err != nil {
		return err
	}
	logPath := filepath.Join(d.k.dir, RuntimeLog)
	from := LogSize(logPath)
	if err := d.rt.Kill(ctx, d.k.c.ID, sig, &runc.KillOpts{ExtraArgs: []string{"--pid", strconv.Itoa(pid)}}); err != nil {
		return RuntimeError(err, logPath, from)
	}
	return nil
}

// exited kills what survives an init without a pid namespace of its own.
func (d *runcDriver) exited(ctx context.Context) {
	if !d.killAll {
		return
	}
	if err := d.rt.Kill(ctx, d.k.c.ID, int(unix.SIGKILL), &runc.KillOpts{All: true}); err != nil {
		log.G(ctx).WithError(err).Debug("kill --all after init exit")
	}
}

// cleanup deletes the runtime's state of the container, once any start has returned.
func (d *runcDriver) cleanup(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.rt.Delete(ctx, d.k.c.ID, &runc.DeleteOpts{Force: true}); err != nil {
		log.G(ctx).WithError(err).Warn("failed to delete runtime state")
	}
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
