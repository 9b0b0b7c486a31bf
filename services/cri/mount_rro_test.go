package cri

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/corral-dev/corral/config"
	"github.com/corral-dev/corral/runtime"
)

func TestReadonlyOption(t *testing.T) {
	runc, none := runtime.Features{RecursiveReadOnly: "rro"}, runtime.Features{NoRecursiveReadOnly: "LXC cannot"}
	m := func(ro, rro bool, p runtimeapi.MountPropagation) *runtimeapi.Mount {
		return &runtimeapi.Mount{HostPath: "/h", Readonly: ro, RecursiveReadOnly: rro, Propagation: p}
	}
	private, slave := runtimeapi.MountPropagation_PROPAGATION_PRIVATE, runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER
	for _, tc := range []struct {
		name string
		m    *runtimeapi.Mount
		f    runtime.Features
		want string
		err  error
		msg  string
	}{
		{"rw", m(false, false, private), none, "rw", nil, ""},
		{"ro", m(true, false, slave), none, "ro", nil, ""},
		{"rro on runc", m(true, true, private), runc, "rro", nil, ""},
		{"rro on gVisor", m(true, true, private), runtime.Features{RecursiveReadOnly: "ro"}, "ro", nil, ""},
		{"rro without readonly", m(false, true, private), runc, "", errdefs.ErrInvalidArgument, "recursive read-only mount of host path /h needs readonly true"},
		{"rro with slave propagation", m(true, true, slave), runc, "", errdefs.ErrInvalidArgument,
			"needs propagation PROPAGATION_PRIVATE, not PROPAGATION_HOST_TO_CONTAINER"},
		{"rro bidirectional", m(true, true, runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL), runc, "", errdefs.ErrInvalidArgument, "not PROPAGATION_BIDIRECTIONAL"},
		{"rro unsupported", m(true, true, private), none, "", errdefs.ErrNotImplemented,
			`runtime handler "lxc" (runtime lcr) has no recursive read-only mounts, asked for host path /h: LXC cannot`},
		{"rro, runtime not asked", m(true, true, private), runtime.Features{}, "", errdefs.ErrNotImplemented, "corrald did not ask the runtime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readonlyOption(tc.m, "lxc", "lcr", tc.f)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err %v, want %v %q", err, tc.err, tc.msg)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestContainerMountsRRO checks the bind a recursive read-only mount becomes, and that a refused
// one leaves its missing host path uncreated.
func TestContainerMountsRRO(t *testing.T) {
	src := filepath.Join(t.TempDir(), "vol")
	in := specInput{cfg: &runtimeapi.ContainerConfig{Mounts: []*runtimeapi.Mount{{HostPath: src, ContainerPath: "/vol", Readonly: true, RecursiveReadOnly: true}}},
		pod: &runtimeapi.PodSandboxConfig{}, podDir: t.TempDir(), handler: "lxc", runtime: "lcr", features: runtime.Features{NoRecursiveReadOnly: "LXC cannot"}}
	if _, err := containerMounts(in); !errdefs.IsNotImplemented(err) {
		t.Fatalf("rro on lcr: %v", err)
	}
	if _, err := os.Stat(src); !os.IsNotExist(err) {
		t.Fatalf("a refused mount created its host path: %v", err)
	}
	in.handler, in.runtime, in.features = "runc", "runc", runtime.Features{RecursiveReadOnly: "rro"}
	mounts, err := containerMounts(in)
	if err != nil {
		t.Fatal(err)
	}
	if m := mounts[0]; m.Source != src || m.Destination != "/vol" || !slices.Equal(m.Options, []string{"rbind", "rro", "rprivate"}) {
		t.Errorf("rro mount %+v", m)
	}
}

// TestStatusFeatures checks what Status advertises: supplemental groups policies, and recursive
// read-only mounts and user namespaces on each handler whose runtime has them, the empty handler as
// default_runtime's.
func TestStatusFeatures(t *testing.T) {
	cfg := config.Default()
	cfg.CRI.CNI.ConfDir = t.TempDir()
	for h, rt := range map[string]string{"runc": "runc", "lxc": "lcr", "sc": "runsc"} {
		cfg.CRI.Runtimes[h] = config.CRIRuntime{Runtime: rt}
	}
	features := map[string]runtime.Features{"runc": {RecursiveReadOnly: "rro", UserNamespaces: true}, "runsc": {RecursiveReadOnly: "ro"}}
	asked := map[string]int{}
	s, err := New(Opts{Config: cfg, Resolve: fakeResolve, Features: func(_ context.Context, rt string) runtime.Features {
		asked[rt]++
		return features[rt]
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := s.Status(context.Background(), &runtimeapi.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.GetFeatures().GetSupplementalGroupsPolicy() {
		t.Errorf("features %v: no supplemental groups policy", resp.GetFeatures())
	}
	got, userns := map[string]bool{}, map[string]bool{}
	for _, h := range resp.GetRuntimeHandlers() {
		got[h.GetName()] = h.GetFeatures().GetRecursiveReadOnlyMounts()
		userns[h.GetName()] = h.GetFeatures().GetUserNamespaces()
	}
	want := map[string]bool{"": false, "lxc": false, "runc": true, "sc": true} // "" is lcr (fakeResolve)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("recursive read-only mounts by handler %v, want %v", got, want)
	}
	if want := map[string]bool{"": false, "lxc": false, "runc": true, "sc": false}; fmt.Sprint(userns) != fmt.Sprint(want) {
		t.Errorf("user namespaces by handler %v, want %v", userns, want)
	}
	if want := map[string]int{"lcr": 1, "runc": 1, "runsc": 1}; fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Errorf("runtimes asked for their features %v, want each once: %v", asked, want)
	}
}
