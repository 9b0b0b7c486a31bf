package v2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	task "github.com/containerd/containerd/api/runtime/task/v2"
	apitask "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/runtime"
)

// Type URLs of the OCI structures the task API carries as JSON.
const (
	processTypeURL   = "types.containerd.io/opencontainers/runtime-spec/1/Process"
	resourcesTypeURL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"
)

// create starts the task's shim, o.Runtime, and has it create the container, bounded by the create
// timeout. On failure the shim, the runtime's state and whatever the runtime started are gone.
func (r *Runtime) create(ctx context.Context, o runtime.CreateOpts) (_ uint32, retErr error) {
	if err := stdioCheck(o.Stdin, o.Stdout, o.Stderr, o.Terminal); err != nil {
		return 0, err
	}
	ctx, cancel := bounded(ctx, r.timeouts.create)
	defer cancel()
	e, err := r.listenEvents(o.Task, r.eventsPath(o.Task))
	if err != nil {
		return 0, err
	}
	s, err := r.startShim(ctx, o.Task, o.Options, e)
	if err != nil {
		r.mu.Lock()
		r.releaseEventsLocked(e, o.Task)
		r.mu.Unlock()
		return 0, err
	}
	defer func() {
		if retErr != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeouts.cleanup)
			defer cancel()
			r.shutdown(cctx, o.Task, s)
			_, _ = r.cleanup(cctx, o.Task)
			killStragglers(o.Bundle)
		}
	}()
	resp, err := rpc[task.CreateTaskResponse](ctx, s.task, "Create", &task.CreateTaskRequest{ID: o.ID, Bundle: o.Bundle, Terminal: o.Terminal,
		Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, Options: o.Options, Rootfs: o.Rootfs})
	if err != nil {
		return 0, keeper.NoSpace(o.Bundle, err)
	}
	return resp.Pid, nil
}

// reconnect dials the address a shim left in the bundle and checks it answers Connect. A task whose
// address is that of a shim connected already (a grouped shim) shares its connection.
func (r *Runtime) reconnect(ctx context.Context, t runtime.Task) (*shim, error) {
	b, err := os.ReadFile(filepath.Join(t.Bundle, addressFile))
	if err != nil {
		return nil, fmt.Errorf("no shim address for task %s: %w", t.ID, errdefs.ErrNotFound)
	}
	address := strings.TrimSpace(string(b))
	r.mu.Lock()
	s := r.shimAtLocked(address)
	r.mu.Unlock()
	if s != nil {
		return r.bind(t, s), nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeouts.connect)
	defer cancel()
	version := 2
	if v, err := os.ReadFile(filepath.Join(t.Bundle, versionFile)); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(v))); err == nil {
			version = n
		}
	}
	e, err := r.listenEvents(t, r.savedEventsPath(t))
	if err != nil {
		return nil, err
	}
	if s, err = r.connect(ctx, t.Runtime.Name, address, version, nil); err == nil {
		if _, err = rpc[task.ConnectResponse](ctx, s.task, "Connect", &task.ConnectRequest{ID: t.ID}); err != nil {
			s.close()
			err = fmt.Errorf("shim of task %s does not answer: %w", t.ID, err)
		}
	}
	if err != nil {
		r.mu.Lock()
		r.releaseEventsLocked(e, t)
		r.mu.Unlock()
		return nil, err
	}
	// The log FIFO is followed, never made again: a call racing a delete (CloseIO after the exit)
	// must not write in the bundle while it is removed.
	if s.log, err = followLog(ctx, t); err != nil {
		log.G(ctx).WithError(err).WithField("id", t.ID).Debug("shim log not followed")
	}
	s.events = e
	return r.bind(t, s), nil
}

// call runs one task call with the call timeout on the task's shim.
func (r *Runtime) call(ctx context.Context, t runtime.Task, f func(context.Context, *taskClient) error) error {
	return r.callWithin(ctx, t, r.timeouts.call, f)
}

// callWithin runs one task call bounded by limit on the task's shim. If the shim does not answer in
// time, what its runtime left running is killed, so that the shim serves the next call.
func (r *Runtime) callWithin(ctx context.Context, t runtime.Task, limit time.Duration, f func(context.Context, *taskClient) error) error {
	s, err := r.get(ctx, t)
	if err != nil {
		return err
	}
	ctx, cancel := bounded(ctx, limit)
	defer cancel()
	err = f(ctx, s.task)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		killStragglers(t.Bundle)
	}
	return err
}

// Start starts the init or a created exec, bounded by the create timeout as the runtime's create
// and exec are.
func (r *Runtime) Start(ctx context.Context, t runtime.Task, execID string) (pid uint32, err error) {
	err = r.callWithin(ctx, t, r.timeouts.create, func(ctx context.Context, c *taskClient) error {
		resp, err := rpc[task.StartResponse](ctx, c, "Start", &task.StartRequest{ID: t.ID, ExecID: execID})
		pid = resp.GetPid()
		return err
	})
	return pid, err
}

// Kill signals the init, an exec, or all processes.
func (r *Runtime) Kill(ctx context.Context, t runtime.Task, o runtime.KillOpts) error {
	return r.call(ctx, t, func(ctx context.Context, c *taskClient) error {
		return c.call(ctx, "Kill", &task.KillRequest{ID: t.ID, ExecID: o.ExecID, Signal: o.Signal, All: o.All}, nil)
	})
}

// Wait returns the process's exit from the shim's Wait. If the shim of the init dies, its delete
// subcommand gives the exit. An exit is never taken from an event.
func (r *Runtime) Wait(ctx context.Context, t runtime.Task, execID string) (runtime.Exit, error) {
	s, err := r.get(ctx, t)
	if err != nil {
		if execID != "" {
			return runtime.Exit{}, err
		}
		return r.cleanup(ctx, t)
	}
	type result struct {
		resp *task.WaitResponse
		err  error
	}
	waited := make(chan result, 1)
	go func() {
		resp, err := rpc[task.WaitResponse](ctx, s.task, "Wait", &task.WaitRequest{ID: t.ID, ExecID: execID}) // no deadline: it lasts as long as the process
		waited <- result{resp, err}
	}()
	select {
	case res := <-waited:
		if res.err == nil {
			return runtime.Exit{Pid: 0, Status: res.resp.ExitStatus, Timestamp: timestamp(res.resp.ExitedAt)}, nil
		}
		if errors.Is(res.err, errdefs.ErrNotFound) || ctx.Err() != nil {
			return runtime.Exit{}, res.err
		}
	case <-s.closed:
	case <-ctx.Done():
		return runtime.Exit{}, ctx.Err()
	}
	// The connection dropped: the shim is gone.
	r.forget(t)
	if execID != "" {
		return runtime.Exit{}, fmt.Errorf("shim of task %s died while exec %s ran", t.ID, execID)
	}
	return r.cleanup(ctx, t)
}

// Delete deletes the container in its shim and shuts the shim down; a shim that is gone, or that
// holds no container, gets its delete subcommand instead. Either way no runtime state, cgroup,
// socket or shim process is left.
func (r *Runtime) Delete(ctx context.Context, t runtime.Task) error {
	s, err := r.get(ctx, t)
	if err != nil {
		r.forget(t)
		switch _, statErr := os.Stat(filepath.Join(t.Bundle, addressFile)); {
		case len(shimPids(t)) > 0 || len(runtimePids(t.Bundle)) > 0:
			// A shim that does not answer, or whose start a crash interrupted, or a runtime it left.
			return r.abandon(ctx, t, nil)
		case statErr != nil: // no shim was started, so no container created
			return nil
		}
		return r.purge(ctx, t)
	}
	cctx, cancel := bounded(context.WithoutCancel(ctx), r.timeouts.call)
	defer cancel()
	_, err = rpc[task.DeleteResponse](cctx, s.task, "Delete", &task.DeleteRequest{ID: t.ID})
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		if errors.Is(cctx.Err(), context.DeadlineExceeded) {
			killStragglers(t.Bundle)
		}
		return fmt.Errorf("in its shim: %w", err)
	}
	if r.shutdown(cctx, t, s) {
		// The shim goes on serving the other tasks of its group: its processes are theirs.
		if err != nil {
			return r.purge(ctx, t)
		}
		return nil
	}
	// A shim that did not exit, or a runtime still running in the bundle, belongs to a container the
	// delete did not see: one a crash of corrald left in the middle of its creation.
	if shims, all := len(shimPids(t)), len(pidsIn(t.Bundle)); shims > 0 || all > shims {
		return r.abandon(ctx, t, nil)
	}
	if err != nil { // the shim holds no container: its create, if a crash cut it short, left state
		return r.purge(ctx, t)
	}
	return nil
}

// shutdownGrace is how long corrald waits for a shim that serves no other task to exit after
// Shutdown (containerd's shims exit within milliseconds) before it looks for what is left.
const shutdownGrace = time.Second

// shutdown asks the shim to exit, which it does once it holds no container, and drops task t from
// it. A grouped shim that still serves other tasks keeps its connection, socket and events endpoint;
// with its last task corrald closes them, and removes the socket once the shim has exited (one that
// has not, because it holds a container corrald does not know, keeps it). shutdown reports whether
// the shim still serves other tasks.
func (r *Runtime) shutdown(ctx context.Context, t runtime.Task, s *shim) (shared bool) {
	_ = s.task.call(ctx, "Shutdown", &task.ShutdownRequest{ID: t.ID}, nil)
	r.mu.Lock()
	last := len(s.tasks) == 1 && s.tasks[key(t)]
	r.mu.Unlock()
	exited := !last
	if last {
		select {
		case <-s.closed:
			exited = true
		case <-time.After(shutdownGrace):
		case <-ctx.Done():
		}
	}
	if r.forget(t) {
		return true
	}
	if exited {
		r.removeSocket(t.Bundle)
	}
	return false
}

var states = map[apitask.Status]runtime.State{
	apitask.Status_CREATED: runtime.Created, apitask.Status_RUNNING: runtime.Running,
	apitask.Status_STOPPED: runtime.Stopped, apitask.Status_PAUSED: runtime.Paused, apitask.Status_PAUSING: runtime.Paused,
}

// Status asks the shim for the init's state.
func (r *Runtime) Status(ctx context.Context, t runtime.Task) (st runtime.Status, err error) {
	err = r.call(ctx, t, func(ctx context.Context, c *taskClient) error {
		resp, err := rpc[task.StateResponse](ctx, c, "State", &task.StateRequest{ID: t.ID})
		if err == nil {
			st = runtime.Status{Pid: resp.Pid, State: states[resp.Status]}
			if st.State == "" {
				st.State = runtime.Unknown
			}
		}
		return err
	})
	return st, err
}

// Pids lists the container's processes.
func (r *Runtime) Pids(ctx context.Context, t runtime.Task) (ps []runtime.Process, err error) {
	err = r.call(ctx, t, func(ctx context.Context, c *taskClient) error {
		resp, err := rpc[task.PidsResponse](ctx, c, "Pids", &task.PidsRequest{ID: t.ID})
		for _, p := range resp.GetProcesses() {
			ps = append(ps, runtime.Process{Pid: p.Pid})
		}
		return err
	})
	return ps, err
}

// Pause freezes the container.
func (r *Runtime) Pause(ctx context.Context, t runtime.Task) error {
	return r.call(ctx, t, func(ctx context.Context, c *taskClient) error {
		return c.call(ctx, "Pause", &task.PauseRequest{ID: t.ID}, nil)
	})
}

// Resume thaws the container.
func (r *Runtime) Resume(ctx context.Context, t runtime.Task) error {
	return r.call(ctx, t, func(ctx context.Context, c *taskClient) error {
		return c.call(ctx, "Resume", &task.ResumeRequest{ID: t.ID}, nil)
	})
}

// Update changes the container's resources, unless res is nil, and passes the annotations.
func (r *Runtime) Update(ctx context.Context, t runtime.Task, res *specs.LinuxResources, annotations map[string]string) error {
	req := &task.UpdateTaskRequest{ID: t.ID, Annotations: annotations}
	if res != nil {
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		req.Resources = &anypb.Any{TypeUrl: resourcesTypeURL, Value: b}
	}
	return r.call(ctx, t, func(ctx context.Context, c *taskClient) error {
		return c.call(ctx, "Update", req, nil)
	})
}

// Stats returns the shim's metrics for the container.
func (r *Runtime) Stats(ctx context.Context, t runtime.Task) (stats *anypb.Any, err error) {
	err = r.call(ctx, t, func(ctx context.Context, c *taskClient) error {
		resp, err := rpc[task.StatsResponse](ctx, c, "Stats", &task.StatsRequest{ID: t.ID})
		stats = resp.GetStats()
		return err
	})
	return stats, err
}

// Exec creates an exec process in the shim.
func (r *Runtime) Exec(ctx context.Context, o runtime.ExecOpts) error {
	if err := stdioCheck(o.Stdin, o.Stdout, o.Stderr, o.Terminal); err != nil {
		return err
	}
	b, err := json.Marshal(o.Process)
	if err != nil {
		return err
	}
	return r.call(ctx, o.Task, func(ctx context.Context, c *taskClient) error {
		return c.call(ctx, "Exec", &task.ExecProcessRequest{ID: o.ID, ExecID: o.ExecID, Terminal: o.Terminal,
			Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, Spec: &anypb.Any{TypeUrl: processTypeURL, Value: b}}, nil)
	})
}

// DeleteExec deletes an exited exec in the shim.
func (r *Runtime) DeleteExec(ctx context.Context, t runtime.Task, execID string) error {
	return r.call(ctx, t, func(ctx context.Context, c *taskClient) error {
		_, err := rpc[task.DeleteResponse](ctx, c, "Delete", &task.DeleteRequest{ID: t.ID, ExecID: execID})
		return err
	})
}

// Resize resizes the terminal of the init or an exec.
func (r *Runtime) Resize(ctx context.Context, t runtime.Task, o runtime.ResizeOpts) error {
	return r.call(ctx, t, func(ctx context.Context, c *taskClient) error {
		return c.call(ctx, "ResizePty", &task.ResizePtyRequest{ID: t.ID, ExecID: o.ExecID, Width: o.Width, Height: o.Height}, nil)
	})
}

// CloseIO closes the stdin of the init or an exec.
func (r *Runtime) CloseIO(ctx context.Context, t runtime.Task, execID string) error {
	return r.call(ctx, t, func(ctx context.Context, c *taskClient) error {
		return c.call(ctx, "CloseIO", &task.CloseIORequest{ID: t.ID, ExecID: execID, Stdin: true}, nil)
	})
}
