// Package namespaces serves containerd's namespaces API over the store. Namespaces are also created
// implicitly by the first record put in them.
package namespaces

import (
	"context"
	"fmt"

	namespacesapi "github.com/containerd/containerd/api/services/namespaces/v1"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/corral-dev/corral/services"
	"github.com/corral-dev/corral/services/store"
)

// Service implements containerd's namespaces API.
type Service struct {
	namespacesapi.UnimplementedNamespacesServer
	Store *store.Store
}

// Get implements the namespaces API.
func (s *Service) Get(ctx context.Context, r *namespacesapi.GetNamespaceRequest) (*namespacesapi.GetNamespaceResponse, error) {
	labels, err := s.Store.NamespaceLabels(r.Name)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &namespacesapi.GetNamespaceResponse{Namespace: &namespacesapi.Namespace{Name: r.Name, Labels: labels}}, nil
}

// List implements the namespaces API.
func (s *Service) List(ctx context.Context, r *namespacesapi.ListNamespacesRequest) (*namespacesapi.ListNamespacesResponse, error) {
	names, err := s.Store.Namespaces()
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	resp := &namespacesapi.ListNamespacesResponse{}
	for _, n := range names {
		labels, err := s.Store.NamespaceLabels(n)
		if err != nil {
			return nil, services.ToGRPC(err)
		}
		resp.Namespaces = append(resp.Namespaces, &namespacesapi.Namespace{Name: n, Labels: labels})
	}
	return resp, nil
}

// Create implements the namespaces API.
func (s *Service) Create(ctx context.Context, r *namespacesapi.CreateNamespaceRequest) (*namespacesapi.CreateNamespaceResponse, error) {
	if r.Namespace == nil {
		return nil, services.ToGRPC(fmt.Errorf("namespace is required: %w", errdefs.ErrInvalidArgument))
	}
	if err := store.ValidateID("namespace", r.Namespace.Name); err != nil {
		return nil, services.ToGRPC(err)
	}
	if err := s.Store.CreateNamespace(r.Namespace.Name, r.Namespace.Labels); err != nil {
		return nil, services.ToGRPC(err)
	}
	return &namespacesapi.CreateNamespaceResponse{Namespace: r.Namespace}, nil
}

// Update implements the namespaces API; only labels can change.
func (s *Service) Update(ctx context.Context, r *namespacesapi.UpdateNamespaceRequest) (*namespacesapi.UpdateNamespaceResponse, error) {
	if r.Namespace == nil {
		return nil, services.ToGRPC(fmt.Errorf("namespace is required: %w", errdefs.ErrInvalidArgument))
	}
	if err := s.Store.SetNamespaceLabels(r.Namespace.Name, r.Namespace.Labels); err != nil {
		return nil, services.ToGRPC(err)
	}
	return &namespacesapi.UpdateNamespaceResponse{Namespace: r.Namespace}, nil
}

// Delete implements the namespaces API; a namespace must be empty to go.
func (s *Service) Delete(ctx context.Context, r *namespacesapi.DeleteNamespaceRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, services.ToGRPC(s.Store.DeleteNamespace(r.Name))
}
