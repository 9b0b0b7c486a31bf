// Package containers serves containerd's containers API: container metadata in the store, with the
// runtime name resolved once at create and stored with the container.
package containers

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/containerd/api/events"
	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/services"
	evexchange "github.com/corral-dev/corral/services/events"
	rtservice "github.com/corral-dev/corral/services/runtime"
	"github.com/corral-dev/corral/services/store"
)

// Service implements containerd's containers API.
type Service struct {
	containersapi.UnimplementedContainersServer

	Store    *store.Store
	Resolver *rtservice.Resolver
	Events   *evexchange.Exchange
	// BeforeDelete runs before a container is deleted: it removes a stopped task or refuses.
	BeforeDelete func(ctx context.Context, ns, id string) error
	// Mirror, if set, also keeps every container that uses a snapshot, for garbage collection.
	Mirror Mirror
}

func (s *Service) load(ns, id string) (*containersapi.Container, error) {
	b, err := s.Store.Get(ns, store.Containers, id)
	if err != nil {
		return nil, err
	}
	var c containersapi.Container
	return &c, proto.Unmarshal(b, &c)
}

// Get implements the containers API.
func (s *Service) Get(ctx context.Context, r *containersapi.GetContainerRequest) (*containersapi.GetContainerResponse, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	c, err := s.load(ns, r.ID)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &containersapi.GetContainerResponse{Container: c}, nil
}

// Create implements the containers API: it validates the id and spec and resolves the runtime.
func (s *Service) Create(ctx context.Context, r *containersapi.CreateContainerRequest) (*containersapi.CreateContainerResponse, error) {
	c, err := s.create(ctx, r.Container)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &containersapi.CreateContainerResponse{Container: c}, nil
}

func (s *Service) create(ctx context.Context, c *containersapi.Container) (*containersapi.Container, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("container is required: %w", errdefs.ErrInvalidArgument)
	}
	if err := store.ValidateID("container", c.ID); err != nil {
		return nil, err
	}
	c = proto.Clone(c).(*containersapi.Container)
	if err := validate(c); err != nil {
		return nil, fmt.Errorf("failed to create container %s: %w", c.ID, err)
	}
	name, err := s.Resolver.Resolve(c.Runtime.GetName())
	if err != nil {
		return nil, fmt.Errorf("failed to create container %s: %w", c.ID, err)
	}
	if _, _, err := s.Resolver.Lookup(name); err != nil {
		return nil, fmt.Errorf("failed to create container %s: %w", c.ID, err)
	}
	if c.Runtime == nil {
		c.Runtime = &containersapi.Container_Runtime{}
	}
	c.Runtime.Name = name
	now := timestamppb.New(time.Now())
	c.CreatedAt, c.UpdatedAt = now, now
	b, err := proto.Marshal(c)
	if err != nil {
		return nil, err
	}
	if err := s.Store.Put(ns, store.Containers, c.ID, b, true); err != nil {
		return nil, err
	}
	if err := s.mirrorCreate(ctx, c); err != nil {
		_ = s.Store.Delete(ns, store.Containers, c.ID)
		return nil, fmt.Errorf("failed to create container %s: %w", c.ID, err)
	}
	s.Events.Publish(ctx, ns, "/containers/create", &events.ContainerCreate{ID: c.ID, Image: c.Image,
		Runtime: &events.ContainerCreate_Runtime{Name: name, Options: c.Runtime.Options}})
	return c, nil
}

// validate checks what a stored container must hold: an OCI spec, labels within containerd's
// limits (empty ones are dropped) and named extensions.
func validate(c *containersapi.Container) error {
	if len(c.Spec.GetValue()) == 0 {
		return fmt.Errorf("the spec is missing: %w", errdefs.ErrInvalidArgument)
	}
	if c.Spec.TypeUrl != api.SpecTypeURL {
		return fmt.Errorf("the spec has type %q, accepted is %q: %w", c.Spec.TypeUrl, api.SpecTypeURL, errdefs.ErrInvalidArgument)
	}
	if _, ok := c.Extensions[""]; ok {
		return fmt.Errorf("an extension has no name: %w", errdefs.ErrInvalidArgument)
	}
	return services.CleanLabels(c.Labels)
}

// Delete implements the containers API. A stopped task goes with the container; a live one refuses.
func (s *Service) Delete(ctx context.Context, r *containersapi.DeleteContainerRequest) (*emptypb.Empty, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &emptypb.Empty{}, services.ToGRPC(s.Remove(ctx, ns, r.ID))
}

// Remove deletes container ns/id after BeforeDelete removed its stopped task; a live task refuses.
func (s *Service) Remove(ctx context.Context, ns, id string) error {
	if _, err := s.load(ns, id); err != nil {
		return err
	}
	if err := s.BeforeDelete(ctx, ns, id); err != nil {
		return fmt.Errorf("failed to delete container %s: %w", id, err)
	}
	if err := s.Store.Delete(ns, store.Containers, id); err != nil {
		return err
	}
	s.mirrorDelete(namespaces.WithNamespace(ctx, ns), id)
	s.Events.Publish(ctx, ns, "/containers/delete", &events.ContainerDelete{ID: id})
	return nil
}
