package leases

import (
	"context"

	leasesapi "github.com/containerd/containerd/api/services/leases/v1"
	"github.com/containerd/containerd/v2/pkg/filters"

	"github.com/corral-dev/corral/services"
	"github.com/corral-dev/corral/services/store"
)

// List implements the leases API, with containerd's filters.
func (s *Service) List(ctx context.Context, r *leasesapi.ListRequest) (*leasesapi.ListResponse, error) {
	ls, err := s.list(ctx, r.Filters)
	return &leasesapi.ListResponse{Leases: ls}, services.ToGRPC(err)
}

// list returns the namespace's leases that match any of fs.
func (s *Service) list(ctx context.Context, fs []string) ([]*leasesapi.Lease, error) {
	return services.ListMatching(ctx, s.Store, store.Leases, fs, adapt)
}

// adapt exposes a lease's filter fields as containerd does: id and labels.KEY.
func adapt(l *leasesapi.Lease) filters.Adaptor {
	return filters.AdapterFunc(func(path []string) (string, bool) {
		switch {
		case len(path) == 0:
		case path[0] == "id":
			return l.ID, l.ID != ""
		case path[0] == "labels":
			return services.LabelField(path[1:], l.Labels)
		}
		return "", false
	})
}
