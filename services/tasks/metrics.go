package tasks

import (
	"context"
	"fmt"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/v2/pkg/filters"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/services"
)

// Metrics implements the tasks API through the family's stats operation, with containerd's filters
// on id, namespace and runtime.
func (s *Service) Metrics(ctx context.Context, r *tasksapi.MetricsRequest) (*tasksapi.MetricsResponse, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	filter, err := filters.ParseAll(r.Filters...)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	resp := &tasksapi.MetricsResponse{}
	for _, t := range s.list(ns) {
		if !filter.Match(adapt(t)) {
			continue
		}
		data, err := t.ops.Stats(ctx, t.rt)
		if err != nil {
			return nil, services.ToGRPC(fmt.Errorf("failed to get metrics of task %s: %w", t.rt.ID, err))
		}
		resp.Metrics = append(resp.Metrics, &types.Metric{Timestamp: timestamppb.Now(), ID: t.rt.ID, Data: data})
	}
	return resp, nil
}

// adapt exposes a task's filter fields: id, namespace and runtime.
func adapt(t *task) filters.Adaptor {
	return filters.AdapterFunc(func(path []string) (string, bool) {
		switch {
		case len(path) != 1:
		case path[0] == "id":
			return t.rt.ID, true
		case path[0] == "namespace":
			return t.rt.Namespace, true
		case path[0] == "runtime":
			return t.rt.Runtime.Name, true
		}
		return "", false
	})
}
