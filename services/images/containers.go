package images

import (
	"context"
	"fmt"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/core/metadata"
	"github.com/containerd/containerd/v2/core/metadata/boltutil"
	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
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

// Delete forgets container id and removes its snapshot, as containerd's clients do when they delete a
// container, in one transaction, so that the snapshot is gone when the delete returns; garbage
// collection then frees its files. A snapshot that another one was committed from stays for the
// collection to judge. One never recorded is no error.
func (m *Containers) Delete(ctx context.Context, id string) error {
	return m.s.DB.Update(func(tx *bolt.Tx) error {
		ctx := boltutil.WithTransaction(ctx, tx)
		c, err := m.store.Get(ctx, id)
		if errdefs.IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if err := m.store.Delete(ctx, id); err != nil {
			return err
		}
		sn := m.s.DB.Snapshotter(c.Snapshotter)
		if c.SnapshotKey == "" || sn == nil {
			return nil
		}
		if err := sn.Remove(ctx, c.SnapshotKey); err != nil && !errdefs.IsNotFound(err) && !errdefs.IsFailedPrecondition(err) {
			return fmt.Errorf("failed to remove snapshot %s of container %s: %w", c.SnapshotKey, id, err)
		}
		return nil
	})
}
