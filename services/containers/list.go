package containers

import (
	"context"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/containerd/containerd/v2/pkg/filters"

	"github.com/corral-dev/corral/services"
	"github.com/corral-dev/corral/services/store"
)

// List implements the containers API, with containerd's filters.
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

// list returns the namespace's containers that match any of fs.
func (s *Service) list(ctx context.Context, fs []string) ([]*containersapi.Container, error) {
	return services.ListMatching(ctx, s.Store, store.Containers, fs, adapt)
}

// adapt exposes a container's filter fields as containerd does: id, image, runtime.name, labels.KEY.
func adapt(c *containersapi.Container) filters.Adaptor {
	return filters.AdapterFunc(func(path []string) (string, bool) {
		switch {
		case len(path) == 0:
		case path[0] == "id":
			return c.ID, c.ID != ""
		case path[0] == "image":
			return c.Image, c.Image != ""
		case path[0] == "runtime" && len(path) == 2 && path[1] == "name":
			return c.Runtime.GetName(), c.Runtime.GetName() != ""
		case path[0] == "labels":
			return services.LabelField(path[1:], c.Labels)
		}
		return "", false
	})
}
