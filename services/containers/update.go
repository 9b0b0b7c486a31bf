package containers

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/containerd/api/events"
	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/services"
	"github.com/corral-dev/corral/services/store"
)

// fullUpdate are the fields an update without field paths replaces.
var fullUpdate = []string{"labels", "spec", "extensions", "image", "snapshotkey"}

// Update implements the containers API with containerd's field paths: labels, labels.KEY, image,
// spec, extensions, extensions.KEY and snapshotkey; none means all of them. The runtime cannot change.
func (s *Service) Update(ctx context.Context, r *containersapi.UpdateContainerRequest) (*containersapi.UpdateContainerResponse, error) {
	c, err := s.update(ctx, r.Container, r.UpdateMask.GetPaths())
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &containersapi.UpdateContainerResponse{Container: c}, nil
}

func (s *Service) update(ctx context.Context, in *containersapi.Container, paths []string) (*containersapi.Container, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, err
	}
	if in == nil {
		return nil, fmt.Errorf("container is required: %w", errdefs.ErrInvalidArgument)
	}
	var c containersapi.Container
	// One transaction: the tasks service edits labels too (the log, the restart count).
	err = s.Store.Edit(ns, store.Containers, in.ID, func(b []byte) ([]byte, error) {
		if err := proto.Unmarshal(b, &c); err != nil {
			return nil, err
		}
		if len(paths) == 0 {
			if rt := in.Runtime.GetName(); rt != "" && rt != c.Runtime.GetName() {
				return nil, fmt.Errorf("failed to update container %s: the runtime cannot change: %w", c.ID, errdefs.ErrInvalidArgument)
			}
			paths = fullUpdate
		}
		for _, p := range paths {
			if err := apply(&c, in, p); err != nil {
				return nil, fmt.Errorf("failed to update container %s: %w", c.ID, err)
			}
		}
		if err := validate(&c); err != nil {
			return nil, fmt.Errorf("failed to update container %s: %w", c.ID, err)
		}
		c.UpdatedAt = timestamppb.Now()
		return proto.Marshal(&c)
	})
	if err != nil {
		return nil, err
	}
	s.Events.Publish(ctx, ns, "/containers/update", &events.ContainerUpdate{ID: c.ID, Image: c.Image, Labels: c.Labels})
	return &c, nil
}

// apply copies the field at path from in to c. A label set to "" is removed later by validate.
func apply(c, in *containersapi.Container, path string) error {
	if k, ok := strings.CutPrefix(path, "labels."); ok {
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		c.Labels[k] = in.Labels[k]
		return nil
	}
	if k, ok := strings.CutPrefix(path, "extensions."); ok {
		x, ok := in.Extensions[k]
		switch {
		case !ok:
			delete(c.Extensions, k)
		case c.Extensions == nil:
			c.Extensions = map[string]*anypb.Any{k: x}
		default:
			c.Extensions[k] = x
		}
		return nil
	}
	switch path {
	case "labels":
		c.Labels = in.Labels
	case "image":
		c.Image = in.Image
	case "spec":
		c.Spec = in.Spec
	case "extensions":
		c.Extensions = in.Extensions
	case "snapshotkey":
		c.SnapshotKey = in.SnapshotKey
	default:
		return fmt.Errorf("cannot update field %q: accepted are labels, labels.KEY, image, spec, extensions, extensions.KEY, snapshotkey: %w", path, errdefs.ErrInvalidArgument)
	}
	return nil
}
