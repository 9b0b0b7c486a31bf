// Package introspection serves containerd's introspection API. Its plugin list describes the runtime
// names corrald accepts, one plugin of type api.PluginType each.
package introspection

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	introspectionapi "github.com/containerd/containerd/api/services/introspection/v1"
	"github.com/containerd/errdefs"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/services"
	rtservice "github.com/corral-dev/corral/services/runtime"
)

// Service implements containerd's introspection API.
type Service struct {
	introspectionapi.UnimplementedIntrospectionServer
	Resolver *rtservice.Resolver
	// UUID identifies this corrald instance.
	UUID string
}

// Plugins lists the runtimes. Filters may be empty or type==api.PluginType.
func (s *Service) Plugins(ctx context.Context, r *introspectionapi.PluginsRequest) (*introspectionapi.PluginsResponse, error) {
	for _, f := range r.Filters {
		if strings.ReplaceAll(f, " ", "") != "type=="+api.PluginType {
			return nil, services.ToGRPC(fmt.Errorf("plugin filter %q not supported: accepted is type==%s: %w", f, api.PluginType, errdefs.ErrNotImplemented))
		}
	}
	resp := &introspectionapi.PluginsResponse{}
	for _, rt := range s.Resolver.List() {
		p := &introspectionapi.Plugin{Type: api.PluginType, ID: rt.Name, Exports: map[string]string{
			api.ExportFamily:    rt.Family,
			api.ExportPath:      rt.Path,
			api.ExportArgs:      strings.Join(rt.Args, " "),
			api.ExportSource:    rt.Source,
			api.ExportInstalled: strconv.FormatBool(rt.Installed),
			api.ExportDefault:   strconv.FormatBool(rt.Default),
		}}
		if rt.Err != nil {
			p.InitErr = &rpcstatus.Status{Code: 9, Message: rt.Err.Error()} // FAILED_PRECONDITION
		}
		resp.Plugins = append(resp.Plugins, p)
	}
	return resp, nil
}

// Server implements the introspection API.
func (s *Service) Server(ctx context.Context, _ *emptypb.Empty) (*introspectionapi.ServerResponse, error) {
	return &introspectionapi.ServerResponse{UUID: s.UUID}, nil
}
