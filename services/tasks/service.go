package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd/api/events"
	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/runtime"
	evexchange "github.com/corral-dev/corral/services/events"
	rtservice "github.com/corral-dev/corral/services/runtime"
	"github.com/corral-dev/corral/services/store"
)

// Service runs tasks. It implements containerd's tasks API (grpc.go) on top of the methods here.
type Service struct {
	tasksapi.UnimplementedTasksServer

	store    *store.Store
	resolver *rtservice.Resolver
	events   *evexchange.Exchange
	dirs     Dirs
	log      keeper.Log // the default rotation of container logs
	timeout  time.Duration
	// Supervision applies restart policies and auto-removes; set it before Restore.
	Supervision Supervision

	mu     sync.Mutex
	tasks  map[string]*task         // by namespace/id
	delays map[string]time.Duration // the last restart back-off, by namespace/id
}

// New returns the tasks service. Bundles and container logs go under dirs; log is the default
// rotation of container logs; timeout bounds the wait for a forced exit on delete.
func New(st *store.Store, resolver *rtservice.Resolver, ex *evexchange.Exchange, dirs Dirs, log keeper.Log, timeout time.Duration) *Service {
	return &Service{store: st, resolver: resolver, events: ex, dirs: dirs, log: log, timeout: timeout,
		tasks: map[string]*task{}, delays: map[string]time.Duration{}}
}

func key(ns, id string) string { return ns + "/" + id }

func (s *Service) get(ns, id string) (*task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[key(ns, id)]
	if !ok {
		return nil, fmt.Errorf("task %s in namespace %s: %w", id, ns, errdefs.ErrNotFound)
	}
	return t, nil
}

// create writes the bundle from the container's spec and asks the container's runtime family to
// create the task. Nothing is left behind when it fails. A restart passes the stopped task the new
// one replaces, which stays if the create fails.
func (s *Service) create(ctx context.Context, ns string, r *tasksapi.CreateTaskRequest, replace *task) (_ *task, retErr error) {
	id := r.ContainerID
	if err := store.ValidateID("container", id); err != nil {
		return nil, err
	}
	b, err := s.store.Get(ns, store.Containers, id)
	if err != nil {
		return nil, err
	}
	var c containersapi.Container
	if err := proto.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if r.Checkpoint != nil {
		return nil, fmt.Errorf("failed to create task %s: runtime %s cannot restore a checkpoint: %w", id, c.Runtime.GetName(), errdefs.ErrNotImplemented)
	}
	f, bin, err := s.resolver.Lookup(c.Runtime.GetName())
	if err != nil {
		return nil, fmt.Errorf("failed to create task %s: %w", id, err)
	}
	logFile, err := s.logFile(ns, &c)
	if err != nil {
		return nil, fmt.Errorf("failed to create task %s: %w", id, err)
	}
	bundle := filepath.Join(s.dirs.Bundles, ns, id)
	rec := record{Namespace: ns, ID: id, Runtime: bin.Name, Bundle: bundle, State: runtime.Creating,
		Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal, Rootfs: r.Rootfs}
	t := newTask(rec, f.Ops, runtime.Task{Namespace: ns, ID: id, Bundle: bundle, Runtime: bin})
	t.op.Lock()
	defer t.op.Unlock()
	s.mu.Lock()
	if cur, exists := s.tasks[key(ns, id)]; exists && cur != replace {
		s.mu.Unlock()
		return nil, fmt.Errorf("task %s: %w", id, errdefs.ErrAlreadyExists)
	}
	s.tasks[key(ns, id)] = t
	s.mu.Unlock()
	undo := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if replace == nil {
			delete(s.tasks, key(ns, id))
			_ = s.store.Delete(ns, store.Tasks, id)
			return
		}
		s.tasks[key(ns, id)] = replace
		old := replace.snapshot()
		_ = s.store.Put(ns, store.Tasks, id, old.marshal(), false)
	}
	// The intent goes to disk before anything is made on the host: a crash from here on is finished
	// or rolled back at restore, and no container can exist that no verb shows.
	if err := s.store.Put(ns, store.Tasks, id, rec.marshal(), replace == nil); err != nil {
		undo()
		return nil, fmt.Errorf("failed to create task %s: %w", id, err)
	}
	defer func() {
		if retErr != nil {
			_ = os.RemoveAll(bundle)
			undo()
		}
	}()
	if err := writeBundle(bundle, c.Spec.GetValue(), len(r.Rootfs) > 0); err != nil {
		return nil, fmt.Errorf("failed to create task %s: %w", id, err)
	}
	opts := r.Options
	if opts == nil {
		opts = c.Runtime.GetOptions()
	}
	pid, err := f.Ops.Create(ctx, runtime.CreateOpts{Task: t.rt, Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr,
		Terminal: r.Terminal, Options: opts, Log: logFile, Rootfs: r.Rootfs})
	if err != nil {
		return nil, fmt.Errorf("failed to create task %s: %w", id, err)
	}
	if err := s.recordLog(ns, &c, logFile); err != nil {
		log.G(ctx).WithError(err).WithField("id", id).Warn("failed to record the container's log in its labels")
	}
	t.mu.Lock()
	t.rec.Pid, t.rec.State = pid, runtime.Created
	rec = t.rec
	t.mu.Unlock()
	if err := s.store.Put(ns, store.Tasks, id, rec.marshal(), false); err != nil {
		_ = f.Ops.Delete(context.WithoutCancel(ctx), t.rt)
		return nil, fmt.Errorf("failed to create task %s: %w", id, err)
	}
	go s.watch(t)
	s.events.Publish(ctx, ns, "/tasks/create", &events.TaskCreate{ContainerID: id, Bundle: bundle,
		IO: &events.TaskIO{Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal}, Pid: pid})
	return t, nil
}

// writeBundle writes the spec as config.json after checking its root path: an absolute rootfs
// directory, or with rootfs mounts the bundle's rootfs directory where the shim mounts them.
func writeBundle(dir string, spec []byte, mounts bool) error {
	var s specs.Spec
	if err := json.Unmarshal(spec, &s); err != nil {
		return fmt.Errorf("container spec is not a valid OCI spec: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if err := checkRoot(dir, s.Root, mounts); err != nil {
		return err
	}
	if s.Process == nil || len(s.Process.Args) == 0 {
		return fmt.Errorf("spec process.args must name the command to run: %w", errdefs.ErrInvalidArgument)
	}
	// Like Docker, give a process without PATH the default one: ctr --rootfs sends no env at all.
	if !hasPath(s.Process.Env) {
		s.Process.Env = append(s.Process.Env, DefaultPath)
		var err error
		if spec, err = json.Marshal(&s); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), spec, 0o600)
}

func checkRoot(dir string, root *specs.Root, mounts bool) error {
	switch {
	case mounts && (root == nil || root.Path != "rootfs" && root.Path != filepath.Join(dir, "rootfs")):
		return fmt.Errorf("with rootfs mounts, spec root.path must be \"rootfs\", where the shim mounts them: %w", errdefs.ErrInvalidArgument)
	case !mounts && (root == nil || !strings.HasPrefix(root.Path, "/")):
		return fmt.Errorf("spec root.path must be an absolute rootfs directory: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

// DefaultPath is added to a process environment that has no PATH.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func hasPath(env []string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			return true
		}
	}
	return false
}

// watchTries is how often watch asks a family for an exit that failed to come.
const watchTries = 3

// watch waits for the task's exit through its family, records it and applies the container's
// restart policy or auto-remove.
func (s *Service) watch(t *task) {
	ctx := log.WithLogger(context.Background(), log.L.WithField("id", t.rt.ID).WithField("namespace", t.rt.Namespace))
	e, err := t.ops.Wait(ctx, t.rt, "")
	for try := 1; err != nil && try < watchTries; try++ {
		// The keeper is gone and its container could not be taken down: a task is never reported
		// stopped while its processes may run, so try again, then leave it unknown.
		log.G(ctx).WithError(err).Warn("task lost its keeper; taking its container down again")
		time.Sleep(time.Duration(try) * time.Second)
		e, err = t.ops.Wait(ctx, t.rt, "")
	}
	if err != nil {
		log.G(ctx).WithError(err).Error("task lost its keeper and its container could not be taken down; its state is unknown until it is deleted")
		t.mu.Lock()
		t.rec.State = runtime.Unknown
		_ = s.store.Put(t.rec.Namespace, store.Tasks, t.rec.ID, t.rec.marshal(), false)
		t.mu.Unlock()
		return
	}
	s.exited(ctx, t, e)
	s.supervise(t, false)
}

// exited records and publishes the exit of the task's init.
func (s *Service) exited(ctx context.Context, t *task, e runtime.Exit) {
	t.mu.Lock()
	t.rec.State = runtime.Stopped
	t.rec.ExitStatus = e.Status
	t.rec.ExitedAt = e.Timestamp
	if e.Pid == 0 { // shims answer Wait without the pid: events carry it, as containerd's do
		e.Pid = t.rec.Pid
	}
	rec := t.rec
	close(t.exited)
	t.mu.Unlock()
	if err := s.store.Put(rec.Namespace, store.Tasks, rec.ID, rec.marshal(), false); err != nil {
		log.G(ctx).WithError(err).Debug("exit of a deleted task")
	}
	s.events.Publish(ctx, rec.Namespace, "/tasks/exit", &events.TaskExit{ContainerID: rec.ID, ID: rec.ID, Pid: e.Pid,
		ExitStatus: e.Status, ExitedAt: timestamppb.New(e.Timestamp)})
}

// setState records a state change unless the task has stopped meanwhile.
func (s *Service) setState(t *task, st runtime.State) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rec.State == runtime.Stopped {
		return
	}
	t.rec.State = st
	_ = s.store.Put(t.rec.Namespace, store.Tasks, t.rec.ID, t.rec.marshal(), false)
}

// start starts a created task.
func (s *Service) start(ctx context.Context, t *task) error {
	t.op.Lock()
	defer t.op.Unlock()
	if st := t.snapshot().State; st != runtime.Created {
		return fmt.Errorf("task %s is %s, only a created task can start: %w", t.rt.ID, st, errdefs.ErrFailedPrecondition)
	}
	// Before the start: its exit may be watched before the start returns.
	t.mu.Lock()
	t.rec.StartedAt = time.Now()
	t.mu.Unlock()
	pid, err := t.ops.Start(ctx, t.rt, "")
	if err != nil {
		t.mu.Lock()
		t.rec.StartedAt = time.Time{}
		t.mu.Unlock()
		return fmt.Errorf("failed to start task %s: %w", t.rt.ID, err)
	}
	if pid != 0 {
		t.mu.Lock()
		t.rec.Pid = pid
		t.mu.Unlock()
	}
	s.setState(t, runtime.Running)
	s.events.Publish(ctx, t.rt.Namespace, "/tasks/start", &events.TaskStart{ContainerID: t.rt.ID, Pid: t.snapshot().Pid})
	return nil
}

// maxSignal is the highest signal number Linux has (SIGRTMAX).
const maxSignal = 64

// kill signals the task's init, one of its execs, or all its processes.
func (s *Service) kill(ctx context.Context, t *task, o runtime.KillOpts) error {
	if o.Signal > maxSignal {
		return fmt.Errorf("failed to kill task %s: signal %d is out of range, at most %d: %w", t.rt.ID, o.Signal, maxSignal, errdefs.ErrInvalidArgument)
	}
	if o.ExecID != "" {
		p, err := t.exec(o.ExecID)
		if err != nil {
			return err
		}
		if p.snapshot().State == runtime.Stopped {
			return fmt.Errorf("exec %s: process already finished: %w", o.ExecID, errdefs.ErrNotFound)
		}
	} else if t.snapshot().State == runtime.Stopped {
		return fmt.Errorf("task %s: process already finished: %w", t.rt.ID, errdefs.ErrNotFound)
	}
	if err := t.ops.Kill(ctx, t.rt, o); err != nil {
		return fmt.Errorf("failed to kill task %s: %w", t.rt.ID, err)
	}
	return nil
}

// pause freezes the task, or thaws it when pause is false.
func (s *Service) pause(ctx context.Context, t *task, pause bool) error {
	t.op.Lock()
	defer t.op.Unlock()
	if !s.current(t) {
		return notFound(t)
	}
	if pause {
		if err := t.ops.Pause(ctx, t.rt); err != nil {
			return fmt.Errorf("failed to pause task %s: %w", t.rt.ID, err)
		}
		s.setState(t, runtime.Paused)
		s.events.Publish(ctx, t.rt.Namespace, "/tasks/paused", &events.TaskPaused{ContainerID: t.rt.ID})
		return nil
	}
	if err := t.ops.Resume(ctx, t.rt); err != nil {
		return fmt.Errorf("failed to resume task %s: %w", t.rt.ID, err)
	}
	s.setState(t, runtime.Running)
	s.events.Publish(ctx, t.rt.Namespace, "/tasks/resumed", &events.TaskResumed{ContainerID: t.rt.ID})
	return nil
}

// delete removes a stopped (or never started) task and everything it holds on the host.
func (s *Service) delete(ctx context.Context, t *task) (record, error) {
	t.op.Lock()
	defer t.op.Unlock()
	if !s.current(t) {
		return record{}, notFound(t)
	}
	switch st := t.snapshot().State; st {
	case runtime.Running, runtime.Paused:
		return record{}, fmt.Errorf("task %s must be stopped before deletion: %s: %w", t.rt.ID, st, errdefs.ErrFailedPrecondition)
	case runtime.Created:
		// A created task is killed before its resources go; if the kill fails, Delete forces it.
		if t.ops.Kill(ctx, t.rt, runtime.KillOpts{Signal: 9, All: true}) == nil {
			select {
			case <-t.exited:
			case <-time.After(s.timeout):
			}
		}
	}
	if err := s.markDeleting(t, true); err != nil {
		return record{}, fmt.Errorf("failed to delete task %s: %w", t.rt.ID, err)
	}
	if err := t.ops.Delete(ctx, t.rt); err != nil {
		_ = s.markDeleting(t, false)
		return record{}, fmt.Errorf("failed to delete task %s: %w", t.rt.ID, err)
	}
	select { // Delete forced the task down: its exit arrives now.
	case <-t.exited:
	case <-time.After(s.timeout):
	}
	if err := os.RemoveAll(t.rt.Bundle); err != nil {
		return record{}, fmt.Errorf("failed to remove bundle of task %s: %w", t.rt.ID, err)
	}
	_ = s.store.Delete(t.rt.Namespace, store.Tasks, t.rt.ID)
	s.mu.Lock()
	delete(s.tasks, key(t.rt.Namespace, t.rt.ID))
	delete(s.delays, key(t.rt.Namespace, t.rt.ID))
	s.mu.Unlock()
	rec := t.snapshot()
	s.events.Publish(ctx, rec.Namespace, "/tasks/delete", &events.TaskDelete{ContainerID: rec.ID, ID: rec.ID, Pid: rec.Pid,
		ExitStatus: rec.ExitStatus, ExitedAt: timestamppb.New(rec.ExitedAt)})
	return rec, nil
}

// markDeleting records, durably, that the task's resources are being deleted, or no longer are.
func (s *Service) markDeleting(t *task, deleting bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rec.Deleting = deleting
	return s.store.Put(t.rec.Namespace, store.Tasks, t.rec.ID, t.rec.marshal(), false)
}

// DeleteStopped deletes the container's task if it has stopped or never started (or is unknown
// since its keeper died), and the container's logs; it fails while the task runs. It is what
// deleting a container does first.
func (s *Service) DeleteStopped(ctx context.Context, ns, id string) error {
	for try := 0; ; try++ {
		t, err := s.get(ns, id)
		if err != nil {
			break
		}
		switch st := t.snapshot().State; st {
		case runtime.Running, runtime.Paused, runtime.Creating:
			return fmt.Errorf("container %s has a %s task: kill it first: %w", id, st, errdefs.ErrFailedPrecondition)
		}
		_, err = s.delete(ctx, t)
		if err == nil {
			break
		}
		if !errdefs.IsNotFound(err) || try == deleteTries {
			return err
		}
		// Restarted by its policy meanwhile: look at the new task.
	}
	return s.removeLogs(ns, id)
}

// deleteTries bounds how often DeleteStopped looks again at a task its restart policy replaced.
const deleteTries = 3
