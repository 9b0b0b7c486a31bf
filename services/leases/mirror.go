package leases

import (
	"context"

	leasesapi "github.com/containerd/containerd/api/services/leases/v1"
	cleases "github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/errdefs"
)

// The mirror is containerd's metadata lease manager: the content and snapshot stores check a
// request's lease against it, and garbage collection keeps what its leases hold. Without a mirror
// these do nothing.

func (s *Service) mirrorCreate(ctx context.Context, id string, labels map[string]string) error {
	if s.Mirror == nil {
		return nil
	}
	_, err := s.Mirror.Create(ctx, cleases.WithID(id), cleases.WithLabels(labels))
	return err
}

// mirrorDelete deletes the lease (one the mirror never had is no error) and, if sync, collects
// what it held before returning.
func (s *Service) mirrorDelete(ctx context.Context, id string, sync bool) error {
	if s.Mirror == nil {
		return nil
	}
	if err := s.Mirror.Delete(ctx, cleases.Lease{ID: id}); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	if sync && s.Collect != nil {
		return s.Collect(ctx)
	}
	return nil
}

func (s *Service) mirrorResource(ctx context.Context, id string, res *leasesapi.Resource, add bool) error {
	if s.Mirror == nil {
		return nil
	}
	l, r := cleases.Lease{ID: id}, cleases.Resource{ID: res.ID, Type: res.Type}
	if add {
		return s.Mirror.AddResource(ctx, l, r)
	}
	if err := s.Mirror.DeleteResource(ctx, l, r); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	return nil
}
