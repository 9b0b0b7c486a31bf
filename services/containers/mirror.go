package containers

import (
	"context"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/containerd/log"
)

// Mirror keeps a copy of the containers that use a snapshot where the image store's garbage
// collection finds them: a container's snapshot is kept as long as the container.
type Mirror interface {
	// Create records c in the namespace of ctx.
	Create(ctx context.Context, c *containersapi.Container) error
	// Delete forgets container id; one never recorded is no error.
	Delete(ctx context.Context, id string) error
}

func (s *Service) mirrorCreate(ctx context.Context, c *containersapi.Container) error {
	if s.Mirror == nil || c.SnapshotKey == "" {
		return nil
	}
	return s.Mirror.Create(ctx, c)
}

// mirrorDelete forgets the container; a failure leaves its snapshot to a later delete.
func (s *Service) mirrorDelete(ctx context.Context, id string) {
	if s.Mirror == nil {
		return
	}
	if err := s.Mirror.Delete(ctx, id); err != nil {
		log.G(ctx).WithError(err).WithField("id", id).Warn("failed to release the container's snapshot")
	}
}
