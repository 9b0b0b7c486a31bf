// Package snapshots serves containerd's Snapshots API for several snapshotters on one socket: each
// request goes to the snapshotter it names, through containerd's own adapter (contrib/snapshotservice).
package snapshots

import (
	"context"
	"fmt"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/v2/contrib/snapshotservice"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/corral-dev/corral/services"
)

// Service implements containerd's Snapshots API.
type Service struct {
	snapshotsapi.UnimplementedSnapshotsServer
	byName map[string]snapshotsapi.SnapshotsServer
}

// New serves the snapshotters by name; they are the metadata db's, so namespaced and lease-aware.
func New(sns map[string]snapshots.Snapshotter) *Service {
	s := &Service{byName: map[string]snapshotsapi.SnapshotsServer{}}
	for name, sn := range sns {
		s.byName[name] = snapshotservice.FromSnapshotter(sn)
	}
	return s
}

type request interface{ GetSnapshotter() string }

// call sends r to the snapshotter it names.
func call[R request, A any](ctx context.Context, s *Service, r R, f func(snapshotsapi.SnapshotsServer, context.Context, R) (A, error)) (A, error) {
	var zero A
	if _, err := services.Namespace(ctx); err != nil {
		return zero, services.ToGRPC(err)
	}
	sn, ok := s.byName[r.GetSnapshotter()]
	if !ok {
		return zero, services.ToGRPC(fmt.Errorf("snapshotter %q is not loaded: %w", r.GetSnapshotter(), errdefs.ErrNotFound))
	}
	return f(sn, ctx, r)
}

// Prepare implements the Snapshots API.
func (s *Service) Prepare(ctx context.Context, r *snapshotsapi.PrepareSnapshotRequest) (*snapshotsapi.PrepareSnapshotResponse, error) {
	return call(ctx, s, r, snapshotsapi.SnapshotsServer.Prepare)
}

// View implements the Snapshots API.
func (s *Service) View(ctx context.Context, r *snapshotsapi.ViewSnapshotRequest) (*snapshotsapi.ViewSnapshotResponse, error) {
	return call(ctx, s, r, snapshotsapi.SnapshotsServer.View)
}

// Mounts implements the Snapshots API.
func (s *Service) Mounts(ctx context.Context, r *snapshotsapi.MountsRequest) (*snapshotsapi.MountsResponse, error) {
	return call(ctx, s, r, snapshotsapi.SnapshotsServer.Mounts)
}

// Commit implements the Snapshots API.
func (s *Service) Commit(ctx context.Context, r *snapshotsapi.CommitSnapshotRequest) (*emptypb.Empty, error) {
	return call(ctx, s, r, snapshotsapi.SnapshotsServer.Commit)
}

// Remove implements the Snapshots API; the snapshot's files go with the next garbage collection.
func (s *Service) Remove(ctx context.Context, r *snapshotsapi.RemoveSnapshotRequest) (*emptypb.Empty, error) {
	return call(ctx, s, r, snapshotsapi.SnapshotsServer.Remove)
}

// Stat implements the Snapshots API.
func (s *Service) Stat(ctx context.Context, r *snapshotsapi.StatSnapshotRequest) (*snapshotsapi.StatSnapshotResponse, error) {
	return call(ctx, s, r, snapshotsapi.SnapshotsServer.Stat)
}

// Update implements the Snapshots API.
func (s *Service) Update(ctx context.Context, r *snapshotsapi.UpdateSnapshotRequest) (*snapshotsapi.UpdateSnapshotResponse, error) {
	return call(ctx, s, r, snapshotsapi.SnapshotsServer.Update)
}

// Usage implements the Snapshots API.
func (s *Service) Usage(ctx context.Context, r *snapshotsapi.UsageRequest) (*snapshotsapi.UsageResponse, error) {
	return call(ctx, s, r, snapshotsapi.SnapshotsServer.Usage)
}

// Cleanup implements the Snapshots API.
func (s *Service) Cleanup(ctx context.Context, r *snapshotsapi.CleanupRequest) (*emptypb.Empty, error) {
	return call(ctx, s, r, snapshotsapi.SnapshotsServer.Cleanup)
}

// List implements the Snapshots API, with containerd's filters.
func (s *Service) List(r *snapshotsapi.ListSnapshotsRequest, ss snapshotsapi.Snapshots_ListServer) error {
	_, err := call(ss.Context(), s, r, func(sn snapshotsapi.SnapshotsServer, _ context.Context, r *snapshotsapi.ListSnapshotsRequest) (struct{}, error) {
		return struct{}{}, sn.List(r, ss)
	})
	return err
}
