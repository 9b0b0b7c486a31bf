// Package containers serves containerd's containers API: container metadata in the store, with the
// runtime name resolved once at create and stored with the container.
package containers

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/containerd/api/events"
	containersapi "github.com/containerd/containerd/api/services/containers/v1"
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

// List implements the containers API. Filters other than none are rejected.
func (s *Service) List(ctx context.Context, r *containersapi.ListContainersRequest) (*containersapi.ListContainersResponse, error) {
	cs, err := s.list(ctx, r.Filters)
	return &containersapi.ListContainersResponse{Containers: cs}, services.ToGRPC(err)
}

// ListStream implements the containers API.
func (s *Service) ListStream(r *containersapi.ListContainersRequest, stream containersapi.Containers_ListStreamServer) error {
	cs, err := s.list(stream.Context(), r.Filters)
	if err != nil {
		return services.ToGRPC(err)
	}
	for _, c := range cs {
		if err := stream.Send(&containersapi.ListContainerMessage{Container: c}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) list(ctx context.Context, filters []string) ([]*containersapi.Container, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range filters {
		if f != "" {
			return nil, fmt.Errorf("container filter %q: filters are not supported: %w", f, errdefs.ErrNotImplemented)
		}
	}
	var out []*containersapi.Container
	err = s.Store.List(ns, store.Containers, func(_ string, v []byte) error {
		var c containersapi.Container
		if err := proto.Unmarshal(v, &c); err != nil {
			return err
		}
		out = append(out, &c)
		return nil
	})
	return out, err
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
	if c.Spec == nil || len(c.Spec.Value) == 0 {
		return nil, fmt.Errorf("container %s has no spec: %w", c.ID, errdefs.ErrInvalidArgument)
	}
	if c.Spec.TypeUrl != api.SpecTypeURL {
		return nil, fmt.Errorf("container %s spec has type %q, accepted is %q: %w", c.ID, c.Spec.TypeUrl, api.SpecTypeURL, errdefs.ErrInvalidArgument)
	}
	name, err := s.Resolver.Resolve(c.Runtime.GetName())
	if err != nil {
		return nil, fmt.Errorf("failed to create container %s: %w", c.ID, err)
	}
	if _, _, err := s.Resolver.Lookup(name); err != nil {
		return nil, fmt.Errorf("failed to create container %s: %w", c.ID, err)
	}
	c = proto.Clone(c).(*containersapi.Container)
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
	s.Events.Publish(ctx, ns, "/containers/create", &events.ContainerCreate{ID: c.ID, Image: c.Image,
		Runtime: &events.ContainerCreate_Runtime{Name: name, Options: c.Runtime.Options}})
	return c, nil
}

// Update implements the containers API for labels, image, spec and extensions; the runtime cannot change.
func (s *Service) Update(ctx context.Context, r *containersapi.UpdateContainerRequest) (*containersapi.UpdateContainerResponse, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	if r.Container == nil {
		return nil, services.ToGRPC(fmt.Errorf("container is required: %w", errdefs.ErrInvalidArgument))
	}
	c, err := s.load(ns, r.Container.ID)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	if rt := r.Container.Runtime.GetName(); rt != "" && rt != c.Runtime.GetName() {
		return nil, services.ToGRPC(fmt.Errorf("runtime of container %s cannot change: %w", c.ID, errdefs.ErrInvalidArgument))
	}
	paths := r.UpdateMask.GetPaths()
	if len(paths) == 0 {
		paths = []string{"labels", "image", "spec", "extensions"}
	}
	for _, p := range paths {
		switch p {
		case "labels":
			c.Labels = r.Container.Labels
		case "image":
			c.Image = r.Container.Image
		case "spec":
			c.Spec = r.Container.Spec
		case "extensions":
			c.Extensions = r.Container.Extensions
		default:
			return nil, services.ToGRPC(fmt.Errorf("cannot update field %q: accepted are labels, image, spec, extensions: %w", p, errdefs.ErrInvalidArgument))
		}
	}
	c.UpdatedAt = timestamppb.Now()
	b, err := proto.Marshal(c)
	if err == nil {
		err = s.Store.Put(ns, store.Containers, c.ID, b, false)
	}
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	s.Events.Publish(ctx, ns, "/containers/update", &events.ContainerUpdate{ID: c.ID, Image: c.Image, Labels: c.Labels})
	return &containersapi.UpdateContainerResponse{Container: c}, nil
}

// Delete implements the containers API. A stopped task goes with the container; a live one refuses.
func (s *Service) Delete(ctx context.Context, r *containersapi.DeleteContainerRequest) (*emptypb.Empty, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	if _, err := s.load(ns, r.ID); err != nil {
		return nil, services.ToGRPC(err)
	}
	if err := s.BeforeDelete(ctx, ns, r.ID); err != nil {
		return nil, services.ToGRPC(fmt.Errorf("failed to delete container %s: %w", r.ID, err))
	}
	if err := s.Store.Delete(ns, store.Containers, r.ID); err != nil {
		return nil, services.ToGRPC(err)
	}
	s.Events.Publish(ctx, ns, "/containers/delete", &events.ContainerDelete{ID: r.ID})
	return &emptypb.Empty{}, nil
}
