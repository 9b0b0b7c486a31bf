package introspection

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	introspectionapi "github.com/containerd/containerd/api/services/introspection/v1"
	"github.com/containerd/containerd/v2/pkg/filters"
	"github.com/containerd/errdefs/pkg/errgrpc"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/corral-dev/corral/api"
)

// Plugin types and ids as containerd names them.
const (
	// TypeRuntime is containerd's type of a runtime plugin: corrald's task manager and its families.
	TypeRuntime = "io.containerd.runtime.v2"
	// TypeGRPC is containerd's type of a gRPC service plugin.
	TypeGRPC = "io.containerd.grpc.v1"
	// TypeSnapshotter is containerd's type of a snapshotter plugin.
	TypeSnapshotter = "io.containerd.snapshotter.v1"
	// TaskID is the runtime plugin containerd's clients ask to describe a runtime.
	TaskID = "task"
)

// plugins lists, sorted by type and id, those that match filter: the task manager and one entry per
// runtime family (TypeRuntime), one per gRPC service (TypeGRPC), one per snapshotter
// (TypeSnapshotter, with its capabilities) and one per runtime name (api.PluginType). A runtime
// name is looked up only if the filter, which sees only type and id, matches it.
func (s *Service) plugins(filter filters.Filter) []*introspectionapi.Plugin {
	out := []*introspectionapi.Plugin{{Type: TypeRuntime, ID: TaskID, Exports: s.Paths}}
	for _, f := range s.Families {
		out = append(out, &introspectionapi.Plugin{Type: TypeRuntime, ID: strings.ReplaceAll(f.Name, " ", "-"),
			Exports: map[string]string{api.ExportFamily: f.Name}, InitErr: initErr(f.Unavailable)})
	}
	for name := range s.Services() {
		out = append(out, &introspectionapi.Plugin{Type: TypeGRPC, ID: serviceID(name)})
	}
	for name, root := range s.Snapshotters {
		out = append(out, &introspectionapi.Plugin{Type: TypeSnapshotter, ID: name, Exports: map[string]string{"root": root},
			Capabilities: s.SnapshotterCapabilities[name]})
	}
	out = slices.DeleteFunc(out, func(p *introspectionapi.Plugin) bool { return !filter.Match(adapt(p)) })
	names, source := s.Resolver.Names()
	for _, name := range names {
		p := &introspectionapi.Plugin{Type: api.PluginType, ID: name}
		if !filter.Match(adapt(p)) {
			continue
		}
		rt := s.Resolver.Info(name, source[name])
		p.InitErr, p.Exports = initErr(rt.Err), map[string]string{
			api.ExportFamily:    rt.Family,
			api.ExportPath:      rt.Path,
			api.ExportArgs:      strings.Join(rt.Args, " "),
			api.ExportSource:    rt.Source,
			api.ExportInstalled: strconv.FormatBool(rt.Installed),
			api.ExportDefault:   strconv.FormatBool(rt.Default),
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *introspectionapi.Plugin) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// serviceID names a gRPC service as containerd's plugin ids do: "tasks" for
// containerd.services.tasks.v1.Tasks, "healthcheck" for the health service.
func serviceID(name string) string {
	if name == healthpb.Health_ServiceDesc.ServiceName {
		return "healthcheck"
	}
	if rest, ok := strings.CutPrefix(name, "containerd.services."); ok {
		id, _, _ := strings.Cut(rest, ".")
		return id
	}
	return name
}

// initErr is err as a plugin's init error, with its gRPC code.
func initErr(err error) *rpcstatus.Status {
	if err == nil {
		return nil
	}
	return status.Convert(errgrpc.ToGRPC(err)).Proto()
}
