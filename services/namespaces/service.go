// Package namespaces serves containerd's namespaces API over the store. Namespaces are also created
// implicitly by the first record put in them, or label set on them.
package namespaces

import (
	"context"
	"fmt"
	"maps"
	"strings"

	namespacesapi "github.com/containerd/containerd/api/services/namespaces/v1"
	"github.com/containerd/containerd/v2/pkg/filters"
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

// Get implements the namespaces API. As in containerd, a missing namespace has no labels rather
// than failing.
func (s *Service) Get(ctx context.Context, r *namespacesapi.GetNamespaceRequest) (*namespacesapi.GetNamespaceResponse, error) {
	labels, err := s.Store.NamespaceLabels(r.Name)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &namespacesapi.GetNamespaceResponse{Namespace: &namespacesapi.Namespace{Name: r.Name, Labels: labels}}, nil
}

// List implements the namespaces API, with containerd's filter on name and labels.KEY.
func (s *Service) List(ctx context.Context, r *namespacesapi.ListNamespacesRequest) (*namespacesapi.ListNamespacesResponse, error) {
	filter, err := filters.Parse(r.Filter)
	if err != nil {
		return nil, services.ToGRPC(fmt.Errorf("namespace filter %q: %w", r.Filter, err))
	}
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
		ns := &namespacesapi.Namespace{Name: n, Labels: labels}
		if filter.Match(adapt(ns)) {
			resp.Namespaces = append(resp.Namespaces, ns)
		}
	}
	return resp, nil
}

// adapt exposes a namespace's filter fields: name and labels.KEY.
func adapt(ns *namespacesapi.Namespace) filters.Adaptor {
	return filters.AdapterFunc(func(path []string) (string, bool) {
		switch {
		case len(path) == 0:
		case path[0] == "name":
			return ns.Name, true
		case path[0] == "labels":
			return services.LabelField(path[1:], ns.Labels)
		}
		return "", false
	})
}

// Create implements the namespaces API.
func (s *Service) Create(ctx context.Context, r *namespacesapi.CreateNamespaceRequest) (*namespacesapi.CreateNamespaceResponse, error) {
	if r.Namespace == nil {
		return nil, services.ToGRPC(fmt.Errorf("namespace is required: %w", errdefs.ErrInvalidArgument))
	}
	if err := store.ValidateID("namespace", r.Namespace.Name); err != nil {
		return nil, services.ToGRPC(err)
	}
	if err := services.CleanLabels(r.Namespace.Labels); err != nil {
		return nil, services.ToGRPC(fmt.Errorf("failed to create namespace %s: %w", r.Namespace.Name, err))
	}
	if err := s.Store.CreateNamespace(r.Namespace.Name, r.Namespace.Labels); err != nil {
		return nil, services.ToGRPC(err)
	}
	return &namespacesapi.CreateNamespaceResponse{Namespace: r.Namespace}, nil
}

// Update implements the namespaces API as containerd does: each field path labels.KEY sets one
// label, or removes it when the value is empty; no paths replace all labels. A missing namespace is
// created.
func (s *Service) Update(ctx context.Context, r *namespacesapi.UpdateNamespaceRequest) (*namespacesapi.UpdateNamespaceResponse, error) {
	ns, err := s.update(r.Namespace, r.UpdateMask.GetPaths())
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &namespacesapi.UpdateNamespaceResponse{Namespace: ns}, nil
}

func (s *Service) update(in *namespacesapi.Namespace, paths []string) (*namespacesapi.Namespace, error) {
	if in == nil {
		return nil, fmt.Errorf("namespace is required: %w", errdefs.ErrInvalidArgument)
	}
	if err := store.ValidateID("namespace", in.Name); err != nil {
		return nil, err
	}
	out := &namespacesapi.Namespace{Name: in.Name}
	err := s.Store.EditNamespaceLabels(in.Name, func(labels map[string]string) error {
		if len(paths) == 0 {
			clear(labels)
			maps.Copy(labels, in.Labels)
		}
		for _, p := range paths {
			k, ok := strings.CutPrefix(p, "labels.")
			if !ok {
				return fmt.Errorf("cannot update field %q: accepted is labels.KEY: %w", p, errdefs.ErrInvalidArgument)
			}
			labels[k] = in.Labels[k]
		}
		out.Labels = labels
		return services.CleanLabels(labels)
	})
	if err != nil {
		return nil, fmt.Errorf("failed to update namespace %s: %w", in.Name, err)
	}
	return out, nil
}

// Delete implements the namespaces API; a namespace must be empty to go.
func (s *Service) Delete(ctx context.Context, r *namespacesapi.DeleteNamespaceRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, services.ToGRPC(s.Store.DeleteNamespace(r.Name))
}
