package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/containerd/log"

	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/services/store"
)

// Restore loads every task recorded in the store and resumes watching those not yet stopped: a task
// that exited while corrald was down gets the status its keeper recorded.
func (s *Service) Restore(ctx context.Context) error {
	nss, err := s.store.Namespaces()
	if err != nil {
		return err
	}
	var unsettled []*task
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
				go s.watch(t)
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
	return nil
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
