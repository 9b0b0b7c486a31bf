package images

import (
	"context"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/core/metadata"
	"github.com/containerd/errdefs"
)

// Containers records containers in the metadata db, so that garbage collection keeps the snapshot
// a container uses (its snapshotter and snapshot key) while the container exists. corrald's own
// container records stay in its store; this is only their reference to the image store.
type Containers struct {
	store containers.Store
	s     *Store
}

// NewContainers returns the container records of s.
func NewContainers(s *Store) *Containers {
	return &Containers{store: metadata.NewContainerStore(s.DB), s: s}
}

// Create records c in the namespace of ctx.
func (m *Containers) Create(ctx context.Context, c *containersapi.Container) error {
	_, err := m.store.Create(ctx, containers.Container{
		ID:          c.ID,
		Labels:      c.Labels,
		Image:       c.Image,
		Runtime:     containers.RuntimeInfo{Name: c.Runtime.GetName()},
		Spec:        c.Spec,
		Snapshotter: c.Snapshotter,
		SnapshotKey: c.SnapshotKey,
	})
	return err
}

// Delete forgets container id and collects garbage at once, so that the container's snapshot is
// gone when its delete returns, unless something else references it. One never recorded is no error.
func (m *Containers) Delete(ctx context.Context, id string) error {
	if err := m.store.Delete(ctx, id); errdefs.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	return m.s.Collect(ctx)
}
