package shim

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

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
}

func newRuncDriver(k *keeper, spec *specs.Spec) *runcDriver {
	runc.Monitor = k.r
	return &runcDriver{k: k, rt: Runtime(k.dir, k.c), killAll: sharesHostPIDs(spec)}
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

func (d *runcDriver) start(context.Context) (int, error) {
	return 0, errors.New("corrald starts a runc container with `<runtime> start`, not the keeper")
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
	if err := d.rt.Exec(cctx, k.c.ID, *req.Process, &runc.ExecOpts{PidFile: pidFile, IO: sio.rio, Detach: true}); err != nil {
		return 0, nil, RuntimeError(err, logPath, from)
	}
	pid, err := runc.ReadPidFile(pidFile)
	if err != nil {
		return 0, nil, err
	}
	return pid, k.r.waitPid(pid), nil
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

// cleanup deletes the runtime's state of the container.
func (d *runcDriver) cleanup(ctx context.Context) {
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
