// Package introspection serves containerd's introspection API. Its plugin list names, with
// containerd's plugin types, corrald's runtime families and gRPC services, and describes the runtime
// names corrald accepts, one plugin of type api.PluginType each.
package introspection

import (
	"context"
	"fmt"

	introspectionapi "github.com/containerd/containerd/api/services/introspection/v1"
	apitypes "github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/v2/pkg/filters"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/services"
	rtservice "github.com/corral-dev/corral/services/runtime"
)

// Service implements containerd's introspection API.
type Service struct {
	introspectionapi.UnimplementedIntrospectionServer
	Resolver *rtservice.Resolver
	// Families are the runtime families in detect order.
	Families []runtime.Family
	// Services returns the gRPC services corrald serves, as grpc.Server.GetServiceInfo does.
	Services func() map[string]grpc.ServiceInfo
	// UUID identifies this corrald instance.
	UUID string
	// Paths are the exports of the task plugin: api.ExportConfig, ExportRoot, ExportState and
	// ExportAddress.
	Paths map[string]string
	// Snapshotters are the snapshotters that opened, by name, with their root directories.
	Snapshotters map[string]string
	// SnapshotterCapabilities are containerd's capabilities of the snapshotters, by name.
	SnapshotterCapabilities map[string][]string
}

// Plugins implements the introspection API, with containerd's filters on type and id.
func (s *Service) Plugins(ctx context.Context, r *introspectionapi.PluginsRequest) (*introspectionapi.PluginsResponse, error) {
	filter, err := filters.ParseAll(r.Filters...)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &introspectionapi.PluginsResponse{Plugins: s.plugins(filter)}, nil
}

// adapt exposes a plugin's filter fields as containerd does: type and id.
func adapt(p *introspectionapi.Plugin) filters.Adaptor {
	return filters.AdapterFunc(func(path []string) (string, bool) {
		switch {
		case len(path) != 1:
		case path[0] == "type":
			return p.Type, p.Type != ""
		case path[0] == "id":
			return p.ID, p.ID != ""
		}
		return "", false
	})
}

// PluginInfo implements the introspection API. Only the task runtime takes options: a containerd
// RuntimeRequest, answered with the RuntimeInfo of the runtime it names (client.RuntimeInfo).
func (s *Service) PluginInfo(ctx context.Context, r *introspectionapi.PluginInfoRequest) (*introspectionapi.PluginInfoResponse, error) {
	this := filters.FilterFunc(func(a filters.Adaptor) bool {
		typ, _ := a.Field([]string{"type"})
		id, _ := a.Field([]string{"id"})
		return typ == r.Type && id == r.ID
	})
	for _, p := range s.plugins(this) {
		resp := &introspectionapi.PluginInfoResponse{Plugin: p}
		if r.Options == nil {
			return resp, nil
		}
		if r.Type != TypeRuntime || r.ID != TaskID {
			return nil, services.ToGRPC(fmt.Errorf("plugin %s.%s gives no information for options: %w", r.Type, r.ID, errdefs.ErrNotImplemented))
		}
		extra, err := s.runtimeInfo(r.Options)
		resp.Extra = extra
		return resp, services.ToGRPC(err)
	}
	return nil, services.ToGRPC(fmt.Errorf("plugin %s.%s: %w", r.Type, r.ID, errdefs.ErrNotFound))
}

// runtimeInfo describes the runtime a RuntimeRequest names; none is the default runtime.
func (s *Service) runtimeInfo(opts *anypb.Any) (*anypb.Any, error) {
	var req apitypes.RuntimeRequest
	if err := typeurl.UnmarshalTo(opts, &req); err != nil {
		return nil, fmt.Errorf("plugin options are not a %s: %v: %w", proto.MessageName(&req), err, errdefs.ErrInvalidArgument)
	}
	name, err := s.Resolver.Resolve(req.RuntimePath)
	if err != nil {
		return nil, fmt.Errorf("failed to describe runtime %q: %w", req.RuntimePath, err)
	}
	f, bin, err := s.Resolver.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("failed to describe runtime %s: %w", name, err)
	}
	return typeurl.MarshalAnyToProto(&apitypes.RuntimeInfo{Name: name, Options: req.Options,
		Annotations: map[string]string{api.ExportFamily: f.Name, api.ExportPath: bin.Path}})
}

// Server implements the introspection API.
func (s *Service) Server(ctx context.Context, _ *emptypb.Empty) (*introspectionapi.ServerResponse, error) {
	return &introspectionapi.ServerResponse{UUID: s.UUID}, nil
}
