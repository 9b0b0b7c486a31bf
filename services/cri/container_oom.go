package cri

import (
	"context"
	"os"
	"path/filepath"
	"time"

	eventtypes "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/log"
	"github.com/containerd/typeurl/v2"

	"github.com/corral-dev/corral/api/keeper"
)

// labelOOMKilled, "true", records on a container that the OOM killer killed one of its processes,
// as a /tasks/oom event said; corral's keepers also record it in their bundle (keeper.OOMFile).
const labelOOMKilled = "io.corral.cri.oom-killed"

// oomRetry is how long the OOM watch waits before it subscribes again after its stream ended.
const oomRetry = time.Second

// oomKilled says whether the OOM killer killed a process of container rec: its keeper's record in the
// bundle, or the label a /tasks/oom event set (containerd's own shims only publish the event).
func (s *Service) oomKilled(rec containers.Container) bool {
	if rec.Labels[labelOOMKilled] == "true" {
		return true
	}
	_, err := os.Stat(filepath.Join(s.bundles, rec.ID, keeper.OOMFile))
	return err == nil
}

// watchOOM labels the CRI's containers that /tasks/oom events name, until ctx ends.
func (s *Service) watchOOM(ctx context.Context) {
	ctx = s.ns(ctx)
	for ctx.Err() == nil {
		evs, errs := s.client.EventService().Subscribe(ctx, `namespace==`+quote(s.cfg.Namespace)+`,topic=="/tasks/oom"`)
	recv:
		for {
			select {
			case ev := <-evs:
				v, err := typeurl.UnmarshalAny(ev.Event)
				if oom, ok := v.(*eventtypes.TaskOOM); err == nil && ok {
					s.labelOOM(ctx, oom.ContainerID)
				}
			case <-errs:
				break recv
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(oomRetry):
		}
	}
}

// labelOOM sets labelOOMKilled on container id, if it is one of the CRI's.
func (s *Service) labelOOM(ctx context.Context, id string) {
	c, err := s.client.LoadContainer(ctx, id)
	if err != nil {
		return
	}
	if labels, err := c.Labels(ctx); err != nil || labels[labelKind] != kindContainer {
		return
	}
	if _, err := c.SetLabels(ctx, map[string]string{labelOOMKilled: "true"}); err != nil {
		log.G(ctx).WithError(err).WithField("id", id).Warn("cri: failed to record an OOM kill")
	}
}
