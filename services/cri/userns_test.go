package cri

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/corral-dev/corral/runtime"
)

func idmaps(ms ...[3]uint32) []*runtimeapi.IDMapping {
	var out []*runtimeapi.IDMapping
	for _, m := range ms {
		out = append(out, &runtimeapi.IDMapping{ContainerId: m[0], HostId: m[1], Length: m[2]})
	}
	return out
}

func TestPodUserns(t *testing.T) {
	one := idmaps([3]uint32{0, 1000, 100000})
	pod := func(uids, gids []*runtimeapi.IDMapping) *runtimeapi.UserNamespace {
		return &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_POD, Uids: uids, Gids: gids}
	}
	for _, tc := range []struct {
		name    string
		opts    *runtimeapi.UserNamespace
		want    []specs.LinuxIDMapping // uids and gids alike; nil: the node's
		wantErr string
	}{
		{name: "no options", opts: nil},
		{name: "node", opts: &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_NODE}},
		{name: "pod", opts: pod(one, one), want: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 100000}}},
		{name: "pod to the last id", opts: pod(idmaps([3]uint32{0, 1 << 31, 1 << 31}), idmaps([3]uint32{0, 1 << 31, 1 << 31})),
			want: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1 << 31, Size: 1 << 31}}},
		{name: "node with mappings", opts: &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_NODE, Uids: one},
			wantErr: "mode NODE takes no uid or gid mappings, got 1 and 0"},
		{name: "container mode", opts: &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_CONTAINER},
			wantErr: "user namespace mode CONTAINER is not supported: accepted are NODE and POD"},
		{name: "target mode", opts: &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_TARGET},
			wantErr: "user namespace mode TARGET is not supported"},
		{name: "two uid mappings", opts: pod(idmaps([3]uint32{0, 1000, 100000}, [3]uint32{0, 2000, 100000}), one),
			wantErr: "takes exactly one uid mapping, got 2"},
		{name: "no gid mapping", opts: pod(one, nil), wantErr: "takes exactly one gid mapping, got 0"},
		{name: "root not mapped", opts: pod(idmaps([3]uint32{1, 1000, 100000}), one),
			wantErr: "uid mapping must map container id 0 (root), got container id 1"},
		{name: "empty length", opts: pod(one, idmaps([3]uint32{0, 1000, 0})), wantErr: "gid mapping needs a length of 1 or more"},
		{name: "past the last id", opts: pod(idmaps([3]uint32{0, 1 << 31, 1<<31 + 1}), one),
			wantErr: "uid mapping of host ids 2147483648+2147483649 ends past the last id 4294967295"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := podUserns(tc.opts)
			if tc.wantErr != "" {
				if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want InvalidArgument containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(u.uids, tc.want) || !reflect.DeepEqual(u.gids, tc.want) || u.on() != (tc.want != nil) {
				t.Fatalf("got uids %v gids %v (on %v), want %v", u.uids, u.gids, u.on(), tc.want)
			}
		})
	}
}

func TestContainerUserns(t *testing.T) {
	pod := &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_POD, Uids: idmaps([3]uint32{0, 1000, 10}), Gids: idmaps([3]uint32{0, 1000, 10})}
	for _, tc := range []struct {
		name    string
		pod, c  *runtimeapi.UserNamespace
		wantErr bool
	}{
		{name: "none asked", pod: pod},
		{name: "the pod's", pod: pod, c: &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_POD,
			Uids: idmaps([3]uint32{0, 1000, 10}), Gids: idmaps([3]uint32{0, 1000, 10})}},
		{name: "other mappings", pod: pod, c: &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_POD,
			Uids: idmaps([3]uint32{0, 2000, 10}), Gids: idmaps([3]uint32{0, 2000, 10})}, wantErr: true},
		{name: "node in a userns pod", pod: pod, c: &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_NODE}, wantErr: true},
		{name: "pod in a node pod", c: pod, wantErr: true},
		{name: "node in a node pod", c: &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_NODE}},
		{name: "bad options", pod: pod, c: &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_TARGET}, wantErr: true},
	} {
		err := containerUserns(tc.pod, tc.c)
		if tc.wantErr != errors.Is(err, errdefs.ErrInvalidArgument) || (err != nil && !tc.wantErr) {
			t.Errorf("%s: error %v, want InvalidArgument %v", tc.name, err, tc.wantErr)
		}
	}
}

func TestCheckUserns(t *testing.T) {
	u, err := podUserns(&runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_POD,
		Uids: idmaps([3]uint32{0, 1000, 10}), Gids: idmaps([3]uint32{0, 1000, 10})})
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	closed, open := filepath.Join(base, "closed"), filepath.Join(base, "open")
	for dir, mode := range map[string]os.FileMode{filepath.Dir(base): 0o711, base: 0o711, closed: 0o700, open: 0o711} {
		if err := os.MkdirAll(dir, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil { // t.TempDir's are 0700
			t.Fatal(err)
		}
	}
	s := &Service{features: map[string]runtime.Features{"runc": {UserNamespaces: true}}}
	for _, tc := range []struct {
		name, handler, rt, bundles string
		u                          userns
		wantErr                    error
		want                       string
	}{
		{name: "node userns on lcr", handler: "lxc", rt: "lcr", bundles: closed},
		{name: "runc", handler: "", rt: "runc", bundles: filepath.Join(open, "bundles", "k8s.io"), u: u},
		{name: "lcr", handler: "lxc", rt: "lcr", bundles: open, u: u, wantErr: errdefs.ErrInvalidArgument,
			want: `runtime handler "lxc" (runtime lcr) does not support user namespaces`},
		{name: "bundles closed", handler: "", rt: "runc", bundles: filepath.Join(closed, "bundles"), u: u, wantErr: errdefs.ErrFailedPrecondition,
			want: "directory " + closed + " (mode 0700) does not let host uid 1000"},
	} {
		s.bundles = tc.bundles
		err := s.checkUserns(tc.u, tc.handler, tc.rt)
		if tc.wantErr == nil && err != nil || tc.wantErr != nil && (!errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: error %v, want %v containing %q", tc.name, err, tc.wantErr, tc.want)
		}
	}
}

func TestUsernsSpecAndSnapshot(t *testing.T) {
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 100000}}
	u := userns{uids: maps, gids: maps}
	if opts := (userns{}).specOpts("/x", true); len(opts) != 0 {
		t.Errorf("the node's user namespace changes the spec: %d options", len(opts))
	}
	var info snapshots.Info
	for _, o := range u.snapshotOpts() {
		if err := o(&info); err != nil {
			t.Fatal(err)
		}
	}
	if got := info.Labels[snapshots.LabelSnapshotUIDMapping]; got != "0:1000:100000" {
		t.Errorf("snapshot uid mapping label %q, want 0:1000:100000", got)
	}
	for _, tc := range []struct {
		path        string
		hostNetwork bool
		wantSysBind bool
	}{{"/proc/7/ns/user", false, false}, {"", true, true}} {
		ctx := namespaces.WithNamespace(context.Background(), "k8s.io")
		var s oci.Spec
		if err := oci.ApplyOpts(ctx, nil, &containers.Container{ID: "c"}, &s, append([]oci.SpecOpts{oci.WithDefaultSpec()}, u.specOpts(tc.path, tc.hostNetwork)...)...); err != nil {
			t.Fatal(err)
		}
		var userNS []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type == specs.UserNamespace {
				userNS = append(userNS, n)
			}
		}
		if len(userNS) != 1 || userNS[0].Path != tc.path {
			t.Errorf("path %q: user namespaces %v, want one with that path", tc.path, userNS)
		}
		if !reflect.DeepEqual(s.Linux.UIDMappings, maps) || !reflect.DeepEqual(s.Linux.GIDMappings, maps) {
			t.Errorf("path %q: mappings %v %v, want %v", tc.path, s.Linux.UIDMappings, s.Linux.GIDMappings, maps)
		}
		var sys []specs.Mount
		for _, m := range s.Mounts {
			if m.Destination == "/sys" {
				sys = append(sys, m)
			}
		}
		if len(sys) != 1 || (sys[0].Type == "bind") != tc.wantSysBind {
			t.Errorf("host network %v: /sys mounts %v, want one, a bind %v", tc.hostNetwork, sys, tc.wantSysBind)
		}
	}
}
