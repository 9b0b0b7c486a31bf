package tasks

import (
	"context"
	"os"
	"time"

	"github.com/containerd/log"

	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/services/store"
)

// finishCreate settles, at restore, a task whose creation a crash interrupted: a shim that holds
// the created container is adopted; anything else the creation made on the host is taken down and
// the task forgotten. If that fails, the task stays listed as stopped, so that it can be removed.
func (s *Service) finishCreate(ctx context.Context, t *task) {
	l := log.G(ctx).WithField("id", t.rt.ID).WithField("namespace", t.rt.Namespace)
	if st, err := t.ops.Status(ctx, t.rt); err == nil && (st.State == runtime.Created || st.State == runtime.Running) {
		t.mu.Lock()
		t.rec.State, t.rec.Pid = st.State, st.Pid
		rec := t.rec
		t.mu.Unlock()
		if err := s.store.Put(rec.Namespace, store.Tasks, rec.ID, rec.marshal(), false); err == nil {
			l.WithField("state", st.State).Info("adopted a task whose creation a crash interrupted")
			go s.watch(t)
			return
		}
	}
	if err := t.ops.Delete(ctx, t.rt); err != nil {
		l.WithError(err).Error("failed to roll back a task whose creation a crash interrupted; listing it as stopped")
		s.markStopped(t, 255)
		return
	}
	s.forget(t)
	l.Info("rolled back a task whose creation a crash interrupted")
}

// finishDelete finishes, at restore, deleting a task a crash interrupted.
func (s *Service) finishDelete(ctx context.Context, t *task) {
	l := log.G(ctx).WithField("id", t.rt.ID).WithField("namespace", t.rt.Namespace)
	if err := t.ops.Delete(ctx, t.rt); err != nil {
		l.WithError(err).Error("failed to finish deleting a task; listing it as stopped")
		s.markStopped(t, 255)
		return
	}
	s.forget(t)
	l.Info("finished deleting a task a crash interrupted")
}

// markStopped records that t stopped with status, unless it already has.
func (s *Service) markStopped(t *task, status uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rec.State != runtime.Stopped {
		t.rec.State, t.rec.ExitStatus, t.rec.ExitedAt = runtime.Stopped, status, time.Now()
		close(t.exited)
	}
	t.rec.Deleting = false
	_ = s.store.Put(t.rec.Namespace, store.Tasks, t.rec.ID, t.rec.marshal(), false)
}

// forget removes what is left of a task whose resources are gone: its bundle, record and entry.
func (s *Service) forget(t *task) {
	_ = os.RemoveAll(t.rt.Bundle)
	_ = s.store.Delete(t.rt.Namespace, store.Tasks, t.rt.ID)
	s.mu.Lock()
	delete(s.tasks, key(t.rt.Namespace, t.rt.ID))
	s.mu.Unlock()
}
