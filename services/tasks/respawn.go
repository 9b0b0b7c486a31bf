package tasks

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/containerd/containerd/api/events"
	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/services/store"
)

// respawn restarts old, a stopped task, if its container's policy still wants it: it counts the
// restart in the container's labels, deletes old, then creates a task with the same stdio and rootfs
// mounts (the log comes from the labels, as at every create) and starts it. old stays listed, stopped, until the new
// task replaces it, so the container never looks lost; if the create fails, old stays.
func (s *Service) respawn(ctx context.Context, old *task, restore bool) error {
	old.op.Lock()
	defer old.op.Unlock()
	ns, id := old.rt.Namespace, old.rt.ID
	rec := old.snapshot()
	if !s.current(old) || rec.Deleting {
		return nil
	}
	n := 0
	err := s.editLabels(ns, id, func(l map[string]string) bool {
		if !restartWanted(l, rec, restore) { // a user stopped or changed it during the back-off
			return false
		}
		n, _ = strconv.Atoi(l[api.LabelRestartCount])
		n++
		l[api.LabelRestartCount] = strconv.Itoa(n)
		delete(l, api.LabelStoppedByUser)
		return true
	})
	if err != nil || n == 0 {
		return err
	}
	if err := old.ops.Delete(ctx, old.rt); err != nil {
		return fmt.Errorf("failed to delete task %s to restart it: %w", id, err)
	}
	if err := os.RemoveAll(old.rt.Bundle); err != nil {
		return fmt.Errorf("failed to remove bundle of task %s to restart it: %w", id, err)
	}
	s.events.Publish(ctx, ns, "/tasks/delete", &events.TaskDelete{ContainerID: id, ID: id, Pid: rec.Pid,
		ExitStatus: rec.ExitStatus, ExitedAt: timestamppb.New(rec.ExitedAt)})
	t, err := s.create(ctx, ns, &tasksapi.CreateTaskRequest{ContainerID: id, Stdin: rec.Stdin, Stdout: rec.Stdout,
		Stderr: rec.Stderr, Terminal: rec.Terminal, Rootfs: rec.Rootfs}, old)
	if err != nil {
		return err
	}
	if err := s.start(ctx, t); err != nil {
		// Its exit, forced, applies the policy again.
		_ = t.ops.Kill(ctx, t.rt, runtime.KillOpts{Signal: 9, All: true})
		return err
	}
	log.G(ctx).WithField("restarts", n).Info("restarted task by its restart policy")
	return nil
}

// current reports whether t is still the task of its container: deleting or restarting ends that.
func (s *Service) current(t *task) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tasks[key(t.rt.Namespace, t.rt.ID)] == t
}

// container returns container ns/id from the store.
func (s *Service) container(ns, id string) (*containersapi.Container, error) {
	b, err := s.store.Get(ns, store.Containers, id)
	if err != nil {
		return nil, err
	}
	var c containersapi.Container
	return &c, proto.Unmarshal(b, &c)
}

// editLabels edits the labels of container ns/id in one store transaction; edit reports whether
// it changed them.
func (s *Service) editLabels(ns, id string, edit func(map[string]string) bool) error {
	return s.store.Edit(ns, store.Containers, id, func(b []byte) ([]byte, error) {
		var c containersapi.Container
		if err := proto.Unmarshal(b, &c); err != nil {
			return nil, err
		}
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		if !edit(c.Labels) {
			return nil, nil
		}
		return proto.Marshal(&c)
	})
}

// removeFIFOs removes the stdio FIFOs of rec, then their directories if that leaves them empty.
// Anything that is not a FIFO stays.
func removeFIFOs(rec record) {
	for _, p := range []string{rec.Stdin, rec.Stdout, rec.Stderr} {
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
			_ = os.Remove(p)
			_ = os.Remove(filepath.Dir(p))
		}
	}
}

// notFound is the error of a task that is no longer its container's.
func notFound(t *task) error {
	return fmt.Errorf("task %s was deleted or restarted meanwhile: %w", t.rt.ID, errdefs.ErrNotFound)
}
