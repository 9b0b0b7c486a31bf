package introspection

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	introspectionapi "github.com/containerd/containerd/api/services/introspection/v1"
	apitypes "github.com/containerd/containerd/api/types"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/config"
	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/runtime/lcr"
	v1 "github.com/corral-dev/corral/runtime/v1"
	v2 "github.com/corral-dev/corral/runtime/v2"
	rtservice "github.com/corral-dev/corral/services/runtime"
)

// newService has an unavailable lcr family and a runtime my-rt configured on a fake binary.
func newService(t *testing.T) (*Service, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fake-runc")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Runtimes["my-rt"] = config.Runtime{Path: bin}
	shims := v2.New(v2.Opts{})
	registry := runtime.NewRegistry(
		runtime.Family{Name: "lcr", Ops: lcr.New(shims, nil, v1.Opts{}), Unavailable: errdefs.ErrFailedPrecondition},
		runtime.Family{Name: "shim v2", Ops: shims.ShimV2()},
		runtime.Family{Name: "shim v1", Ops: v1.New(shims, v1.Opts{})},
	)
	return &Service{Resolver: rtservice.NewResolver(cfg, registry), Families: registry.Families(),
		Services: func() map[string]grpc.ServiceInfo {
			return map[string]grpc.ServiceInfo{"containerd.services.tasks.v1.Tasks": {}, "grpc.health.v1.Health": {}}
		}}, bin
}

func TestPluginsFilters(t *testing.T) {
	s, _ := newService(t)
	for _, tc := range []struct {
		filters []string
		want    []string // type/id
	}{
		{[]string{"type==io.containerd.runtime.v2"}, []string{TypeRuntime + "/lcr", TypeRuntime + "/shim-v1", TypeRuntime + "/shim-v2", TypeRuntime + "/task"}},
		{[]string{`type=="io.containerd.grpc.v1"`}, []string{TypeGRPC + "/healthcheck", TypeGRPC + "/tasks"}},
		{[]string{"type==" + api.PluginType + ",id==my-rt", "id==task"}, []string{TypeRuntime + "/task", api.PluginType + "/my-rt"}},
		{[]string{"id~=^shim-v,type!=" + TypeRuntime}, nil},
	} {
		resp, err := s.Plugins(context.Background(), &introspectionapi.PluginsRequest{Filters: tc.filters})
		if err != nil {
			t.Fatalf("filters %q: %v", tc.filters, err)
		}
		var got []string
		for _, p := range resp.Plugins {
			got = append(got, p.Type+"/"+p.ID)
			if p.ID == "lcr" && p.InitErr.GetCode() != 9 {
				t.Errorf("plugin %s/lcr: init error %v, want FailedPrecondition", p.Type, p.InitErr)
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("filters %q listed %v, want %v", tc.filters, got, tc.want)
		}
	}
	if _, err := s.Plugins(context.Background(), &introspectionapi.PluginsRequest{Filters: []string{"type=="}}); !errdefs.IsInvalidArgument(errgrpc.ToNative(err)) {
		t.Errorf("bad filter: %v, want InvalidArgument", err)
	}
}

// TestSnapshotterCapabilities checks that a snapshotter is listed with its capabilities, which
// containerd's client reads to know whether it idmaps layers itself (WithNewSnapshot).
func TestSnapshotterCapabilities(t *testing.T) {
	s, _ := newService(t)
	s.Snapshotters = map[string]string{"overlayfs": "/r/overlayfs", "native": "/r/native"}
	s.SnapshotterCapabilities = map[string][]string{"overlayfs": {"remap-ids"}}
	resp, err := s.Plugins(context.Background(), &introspectionapi.PluginsRequest{Filters: []string{"type==" + TypeSnapshotter}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, p := range resp.Plugins {
		got[p.ID] = p.Capabilities
	}
	if want := map[string][]string{"overlayfs": {"remap-ids"}, "native": nil}; !reflect.DeepEqual(got, want) {
		t.Errorf("snapshotter capabilities %v, want %v", got, want)
	}
}

func TestPluginInfo(t *testing.T) {
	s, bin := newService(t)
	request := func(path string) *anypb.Any {
		a, err := typeurl.MarshalAnyToProto(&apitypes.RuntimeRequest{RuntimePath: path})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, tc := range []struct {
		typ, id  string
		options  *anypb.Any
		wantInfo *apitypes.RuntimeInfo
		wantErr  error
	}{
		{TypeRuntime, TaskID, request("MY-RT"), &apitypes.RuntimeInfo{Name: "my-rt",
			Annotations: map[string]string{api.ExportFamily: "shim v1", api.ExportPath: bin}}, nil},
		{TypeRuntime, TaskID, nil, nil, nil},
		{TypeGRPC, "tasks", nil, nil, nil},
		{TypeRuntime, TaskID, request("lcr"), nil, errdefs.ErrFailedPrecondition},
		{TypeRuntime, TaskID, request("bogus"), nil, errdefs.ErrInvalidArgument},
		{TypeRuntime, TaskID, &anypb.Any{TypeUrl: "x", Value: []byte("y")}, nil, errdefs.ErrInvalidArgument},
		{TypeGRPC, "tasks", request(""), nil, errdefs.ErrNotImplemented},
		{TypeRuntime, "nope", nil, nil, errdefs.ErrNotFound},
	} {
		resp, err := s.PluginInfo(context.Background(), &introspectionapi.PluginInfoRequest{Type: tc.typ, ID: tc.id, Options: tc.options})
		if tc.wantErr != nil {
			if !errors.Is(errgrpc.ToNative(err), tc.wantErr) {
				t.Errorf("PluginInfo %s.%s: %v, want %v", tc.typ, tc.id, err, tc.wantErr)
			}
			continue
		}
		if err != nil || resp.Plugin.Type != tc.typ || resp.Plugin.ID != tc.id {
			t.Fatalf("PluginInfo %s.%s: %v, %v", tc.typ, tc.id, resp, err)
		}
		if tc.wantInfo == nil {
			if resp.Extra != nil {
				t.Errorf("PluginInfo %s.%s without options: extra %v", tc.typ, tc.id, resp.Extra)
			}
			continue
		}
		var info apitypes.RuntimeInfo
		if err := typeurl.UnmarshalTo(resp.Extra, &info); err != nil {
			t.Fatal(err)
		}
		if info.Name != tc.wantInfo.Name || !reflect.DeepEqual(info.Annotations, tc.wantInfo.Annotations) {
			t.Errorf("PluginInfo %s.%s: %v, want %v", tc.typ, tc.id, &info, tc.wantInfo)
		}
	}
}

func TestTaskPluginExportsPaths(t *testing.T) {
	s, _ := newService(t)
	s.Paths = map[string]string{api.ExportRoot: "/r", api.ExportConfig: ""}
	resp, err := s.Plugins(context.Background(), &introspectionapi.PluginsRequest{Filters: []string{"type==" + TypeRuntime + ",id==" + TaskID}})
	if err != nil || len(resp.Plugins) != 1 || !reflect.DeepEqual(resp.Plugins[0].Exports, s.Paths) {
		t.Fatalf("task plugin: %v, %v; want exports %v", resp, err, s.Paths)
	}
}
