// Package leases serves containerd's leases API from the store, mirrored to the image store's lease
// manager that guards what a client makes under a lease (ctr: each pull and run) from collection.
package leases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	leasesapi "github.com/containerd/containerd/api/services/leases/v1"
	cleases "github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/services"
	"github.com/corral-dev/corral/services/store"
)

// Service implements containerd's leases API.
type Service struct {
	leasesapi.UnimplementedLeasesServer
	Store *store.Store
	// Mirror, if set, also keeps every lease and its resources (mirror.go).
	Mirror cleases.Manager
	// Collect, if set, collects garbage before a synchronous delete answers.
	Collect func(context.Context) error
}

// resources is the store kind holding each lease's resources, kept as a ListResourcesResponse.
const resources = store.Leases + ".resources"

// load returns a lease and its resources.
func (s *Service) load(ns, id string) (*leasesapi.Lease, []*leasesapi.Resource, error) {
	b, err := s.Store.Get(ns, store.Leases, id)
	if err != nil {
		return nil, nil, err
	}
	var l leasesapi.Lease
	if err := proto.Unmarshal(b, &l); err != nil {
		return nil, nil, err
	}
	var res leasesapi.ListResourcesResponse
	if rb, err := s.Store.Get(ns, resources, id); err == nil {
		if err := proto.Unmarshal(rb, &res); err != nil {
			return nil, nil, err
		}
	}
	return &l, res.Resources, nil
}

// Create implements the leases API.
func (s *Service) Create(ctx context.Context, r *leasesapi.CreateRequest) (*leasesapi.CreateResponse, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	id := r.ID
	if id == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	if err := validateLeaseID(id); err != nil {
		return nil, services.ToGRPC(err)
	}
	if err := services.CleanLabels(r.Labels); err != nil {
		return nil, services.ToGRPC(fmt.Errorf("failed to create lease %s: %w", id, err))
	}
	l := &leasesapi.Lease{ID: id, CreatedAt: timestamppb.Now(), Labels: r.Labels}
	b, _ := proto.Marshal(l)
	if err := s.Store.Put(ns, store.Leases, id, b, true); err != nil {
		return nil, services.ToGRPC(err)
	}
	if err := s.mirrorCreate(ctx, id, r.Labels); err != nil {
		_ = s.Store.Delete(ns, store.Leases, id)
		return nil, services.ToGRPC(fmt.Errorf("failed to create lease %s: %w", id, err))
	}
	return &leasesapi.CreateResponse{Lease: l}, nil
}

// Delete implements the leases API.
func (s *Service) Delete(ctx context.Context, r *leasesapi.DeleteRequest) (*emptypb.Empty, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	if err := s.Store.Delete(ns, store.Leases, r.ID); err != nil {
		return nil, services.ToGRPC(err)
	}
	_ = s.Store.Delete(ns, resources, r.ID)
	if err := s.mirrorDelete(ctx, r.ID, r.Sync); err != nil {
		return nil, services.ToGRPC(fmt.Errorf("failed to delete lease %s: %w", r.ID, err))
	}
	return &emptypb.Empty{}, nil
}

// AddResource implements the leases API.
func (s *Service) AddResource(ctx context.Context, r *leasesapi.AddResourceRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, services.ToGRPC(s.editResources(ctx, r.ID, r.Resource, true))
}

// DeleteResource implements the leases API.
func (s *Service) DeleteResource(ctx context.Context, r *leasesapi.DeleteResourceRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, services.ToGRPC(s.editResources(ctx, r.ID, r.Resource, false))
}

// ListResources implements the leases API.
func (s *Service) ListResources(ctx context.Context, r *leasesapi.ListResourcesRequest) (*leasesapi.ListResourcesResponse, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	_, res, err := s.load(ns, r.ID)
	return &leasesapi.ListResourcesResponse{Resources: res}, services.ToGRPC(err)
}

func (s *Service) editResources(ctx context.Context, id string, res *leasesapi.Resource, add bool) error {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return err
	}
	if res == nil || res.ID == "" || res.Type == "" {
		return fmt.Errorf("lease resource needs an id and a type: %w", errdefs.ErrInvalidArgument)
	}
	_, list, err := s.load(ns, id)
	if err != nil {
		return err
	}
	var out []*leasesapi.Resource
	for _, r := range list {
		if r.ID != res.ID || r.Type != res.Type {
			out = append(out, r)
		}
	}
	if add {
		out = append(out, res)
	}
	if err := s.mirrorResource(ctx, id, res, add); err != nil {
		return fmt.Errorf("lease %s: %w", id, err)
	}
	b, _ := proto.Marshal(&leasesapi.ListResourcesResponse{Resources: out})
	return s.Store.Set(ns, resources, id, b)
}

// validateLeaseID accepts what containerd's clients generate (ctr: "<nanos>-<base64url>", which may
// end in '-'): up to 255 printable characters without '/'.
func validateLeaseID(id string) error {
	if id == "" || len(id) > 255 || strings.ContainsAny(id, "/\\") || strings.IndexFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return fmt.Errorf("lease id %q is invalid: use 1 to 255 printable characters other than '/': %w", id, errdefs.ErrInvalidArgument)
	}
	return nil
}
