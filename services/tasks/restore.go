package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"sync"

	"github.com/containerd/log"

	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/services/store"
)

// restoreProbes is how many tasks restore asks their runtime about at once.
const restoreProbes = 16

// Restore loads every task recorded in the store and asks the runtime of each one not yet stopped
// for its state before corrald serves: a task that exited while corrald was down is stopped with the
// status its keeper recorded, the others are watched. It then applies the restart policies and
// auto-removes of the stopped tasks.
func (s *Service) Restore(ctx context.Context) error {
	nss, err := s.store.Namespaces()
	if err != nil {
		return err
	}
	var unsettled, live []*task
	for _, ns := range nss {
		err := s.store.List(ns, store.Tasks, func(id string, v []byte) error {
			var rec record
			if err := json.Unmarshal(v, &rec); err != nil {
				log.G(ctx).WithError(err).WithField("id", id).Error("skipping unreadable task record")
				return nil
			}
			f, err := s.resolver.Family(rec.Runtime)
			if err != nil {
				return fmt.Errorf("failed to restore task %s: %w", id, err)
			}
			_, bin, err := s.resolver.Lookup(rec.Runtime)
			if err != nil {
				// The name may have left the config; the keeper or shim still knows its binary.
				log.G(ctx).WithError(err).WithField("id", id).Warn("runtime of restored task unavailable for new containers")
			}
			bin.Name = rec.Runtime
			t := newTask(rec, f.Ops, runtime.Task{Namespace: ns, ID: id, Bundle: filepath.Join(s.dirs.Bundles, ns, id), Runtime: bin})
			s.mu.Lock()
			s.tasks[key(ns, id)] = t
			s.mu.Unlock()
			switch {
			case rec.State == runtime.Creating, rec.Deleting:
				unsettled = append(unsettled, t) // settled once the store's read is over
			case rec.State != runtime.Stopped:
				live = append(live, t)
			}
			log.G(ctx).WithField("id", id).WithField("namespace", ns).WithField("state", rec.State).Info("restored task")
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, t := range unsettled {
		if t.rec.State == runtime.Creating {
			s.finishCreate(ctx, t)
		} else {
			s.finishDelete(ctx, t)
		}
	}
	s.probe(ctx, live)
	for _, ns := range nss {
		for _, t := range s.list(ns) {
			if t.snapshot().State == runtime.Stopped {
				s.supervise(t, true)
			}
		}
	}
	return nil
}

// probe asks the runtime of each task, restoreProbes at once, for the state it knows.
func (s *Service) probe(ctx context.Context, tasks []*task) {
	sem := make(chan struct{}, restoreProbes)
	var wg sync.WaitGroup
	for _, t := range tasks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.probeOne(ctx, t)
		})
	}
	wg.Wait()
}

// probeOne records the state of a task the runtime knows and watches it, or records its exit if it
// has stopped or its keeper is gone. If the exit cannot be had in time, watch has it later.
func (s *Service) probeOne(ctx context.Context, t *task) {
	st, err := t.ops.Status(ctx, t.rt)
	if err == nil && st.State != runtime.Stopped && st.State != runtime.Unknown {
		t.mu.Lock()
		changed := t.rec.State != st.State || (st.Pid != 0 && t.rec.Pid != st.Pid)
		if st.Pid != 0 {
			t.rec.Pid = st.Pid
		}
		t.rec.State = st.State
		rec := t.rec
		t.mu.Unlock()
		if changed {
			_ = s.store.Put(rec.Namespace, store.Tasks, rec.ID, rec.marshal(), false)
		}
		go s.watch(t)
		return
	}
	wctx, cancel := context.WithTimeout(ctx, s.timeout)
	e, err := t.ops.Wait(wctx, t.rt, "")
	cancel()
	if err != nil {
		log.G(ctx).WithError(err).WithField("id", t.rt.ID).Warn("no exit yet from a task its runtime does not report running")
		go s.watch(t)
		return
	}
	s.exited(ctx, t, e)
}

// list returns the tasks of ns sorted by id.
func (s *Service) list(ns string) []*task {
	s.mu.Lock()
	var out []*task
	for _, t := range s.tasks {
		if t.rt.Namespace == ns {
			out = append(out, t)
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].rt.ID < out[j].rt.ID })
	return out
}
