package tasks

import (
	"context"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	"github.com/containerd/log"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/config"
	"github.com/corral-dev/corral/runtime"
)

// Supervision is how the service applies the restart policies (api.LabelRestart) and auto-removes
// (api.LabelAutoRemove) of containers once their tasks stop.
type Supervision struct {
	// Restart is the back-off between restarts.
	Restart config.Restart
	// AutoRemove is how long a stopped task with no client waiting for it is left before its
	// container is removed.
	AutoRemove time.Duration
	// RemoveContainer deletes a container and its stopped task, as Containers.Delete does.
	RemoveContainer func(ctx context.Context, ns, id string) error
}

// supervise applies the policy of t's container once t has stopped, at most once per task: the
// container is removed, or the task restarted after the back-off. At restore, "always" restarts a
// task its user stopped too.
func (s *Service) supervise(t *task, restore bool) {
	if !t.supervised.CompareAndSwap(false, true) {
		return
	}
	c, err := s.container(t.rt.Namespace, t.rt.ID)
	if err != nil {
		return // removed with its task
	}
	if c.Labels[api.LabelAutoRemove] == "true" && s.Supervision.RemoveContainer != nil {
		go s.autoRemove(t, c.CreatedAt.AsTime())
		return
	}
	rec := t.snapshot()
	if !restartWanted(c.Labels, rec, restore) {
		return
	}
	k := key(t.rt.Namespace, t.rt.ID)
	s.mu.Lock()
	delay := nextDelay(s.delays[k], rec.ExitedAt.Sub(rec.StartedAt), s.Supervision.Restart)
	s.delays[k] = delay
	s.mu.Unlock()
	time.AfterFunc(delay, func() { s.restart(t, restore) })
}

// restartWanted reports whether the policy in labels restarts the task of rec, which was started
// and has stopped: see api.LabelRestart and api.LabelStoppedByUser.
func restartWanted(labels map[string]string, rec record, restore bool) bool {
	p, err := api.ParseRestartPolicy(labels[api.LabelRestart])
	if err != nil || rec.State != runtime.Stopped || rec.StartedAt.IsZero() {
		return false
	}
	stopped := labels[api.LabelStoppedByUser] == "true"
	switch p.Name {
	case api.RestartAlways:
		return !stopped || restore
	case api.RestartUnlessStopped:
		return !stopped
	case api.RestartOnFailure:
		n, _ := strconv.Atoi(labels[api.LabelRestartCount])
		return !stopped && rec.ExitStatus != 0 && (p.MaxRetries == 0 || n < p.MaxRetries)
	}
	return false
}

// nextDelay is the back-off before a restart, after the previous one and a task that ran for ran.
func nextDelay(prev, ran time.Duration, r config.Restart) time.Duration {
	if prev == 0 || ran >= r.ResetAfter.Duration {
		return r.Backoff.Duration
	}
	return min(2*prev, r.MaxBackoff.Duration)
}

// restart restarts t and, if that fails while t is still its container's task, tries again later.
func (s *Service) restart(t *task, restore bool) {
	ctx := log.WithLogger(context.Background(), log.L.WithField("id", t.rt.ID).WithField("namespace", t.rt.Namespace))
	err := s.respawn(ctx, t, restore)
	if err == nil {
		return
	}
	log.G(ctx).WithError(err).Error("failed to restart task by its restart policy")
	if s.current(t) {
		t.supervised.Store(false)
		s.supervise(t, restore)
	}
}

// autoRemove removes t's container, created at created, once no client waits for t, which has
// stopped, and the auto-remove delay has passed: a client such as `corral run --rm` removes it
// itself, or dies. A task or container deleted meanwhile was a client's to remove.
func (s *Service) autoRemove(t *task, created time.Time) {
	for {
		time.Sleep(s.Supervision.AutoRemove)
		if t.waiters.Load() == 0 {
			break
		}
	}
	ns, id := t.rt.Namespace, t.rt.ID
	if c, err := s.container(ns, id); err != nil || !s.current(t) || !c.CreatedAt.AsTime().Equal(created) {
		return
	}
	ctx := log.WithLogger(context.Background(), log.L.WithField("id", id).WithField("namespace", ns))
	if err := s.Supervision.RemoveContainer(ctx, ns, id); err != nil && !errdefs.IsNotFound(err) {
		log.G(ctx).WithError(err).Warn("failed to auto-remove container")
		return
	}
	removeFIFOs(t.snapshot())
	log.G(ctx).Info("auto-removed container")
}
