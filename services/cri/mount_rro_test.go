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
	"time"

	"github.com/containerd/containerd/v2/pkg/kernelversion"
	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/corral-dev/corral/config"
	"github.com/corral-dev/corral/runtime"
)

// fakeRuntimes writes scripts standing in for OCI runtimes to a directory: runc (features with
// rro), old-runc (features without), runsc (no features; gVisor's version line) and kata (neither),
// and returns the directory.
func fakeRuntimes(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"runc":     `[ "$1" = features ] && echo '{"ociVersionMin": "1.0.0", "mountOptions": ["ro", "rbind", "rro"]}'`,
		"old-runc": `[ "$1" = features ] && echo '{"ociVersionMin": "1.0.0", "mountOptions": ["ro", "rbind"]}'`,
		"runsc":    `[ "$1" = --version ] && echo 'runsc version 0.0~20221219.0' && exit 0; exit 128`,
		"kata":     `echo 'kata-runtime 3'; exit 1`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeLookup finds the shim v1 runtime name in dir.
func fakeLookup(dir string) func(string) (runtime.Family, runtime.Binary, error) {
	return func(name string) (runtime.Family, runtime.Binary, error) {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			return runtime.Family{}, runtime.Binary{}, fmt.Errorf("runtime %q is not available: %w", name, errdefs.ErrFailedPrecondition)
		}
		return runtime.Family{Name: "shim v1"}, runtime.Binary{Name: name, Path: p}, nil
	}
}

// kernelRRO is "rro" where the kernel has mount_setattr, else "".
func kernelRRO() string {
	if ok, err := kernelversion.GreaterEqualThan(kernelversion.KernelVersion{Kernel: 5, Major: 12}); ok && err == nil {
		return "rro"
	}
	return ""
}

func TestRROSupport(t *testing.T) {
	dir := fakeRuntimes(t)
	t.Setenv("PATH", dir) // shim v2 io.containerd.runc.* runs runc from $PATH
	rro := kernelRRO()
	for _, tc := range []struct {
		runtime, option, why string
	}{
		{"runc", rro, ""},
		{"io.containerd.runc.v2", rro, ""},
		{"old-runc", "", "features lists no rro mount option"},
		{"runsc", "ro", ""},
		{"kata", "", "kata features: exit status 1"},
		{"missing", "", `runtime "missing" is not available`},
		{"lcr", "", "LXC 5 remounts only the top mount of a bind read-only"},
		{"io.containerd.kata.v2", "", "cannot ask shim v2 containerd-shim-kata-v2"},
	} {
		t.Run(tc.runtime, func(t *testing.T) {
			got := rroSupport(context.Background(), tc.runtime, fakeLookup(dir), time.Minute)
			if got.option != tc.option || !strings.Contains(got.why, tc.why) || (tc.option == "") != (got.why != "") {
				t.Errorf("got %+v, want option %q, why containing %q", got, tc.option, tc.why)
			}
		})
	}
}

func TestReadonlyOption(t *testing.T) {
	runc, none := rro{option: "rro"}, rro{why: "LXC cannot"}
	m := func(ro, rro bool, p runtimeapi.MountPropagation) *runtimeapi.Mount {
		return &runtimeapi.Mount{HostPath: "/h", Readonly: ro, RecursiveReadOnly: rro, Propagation: p}
	}
	private, slave := runtimeapi.MountPropagation_PROPAGATION_PRIVATE, runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER
	for _, tc := range []struct {
		name string
		m    *runtimeapi.Mount
		r    rro
		want string
		err  error
		msg  string
	}{
		{"rw", m(false, false, private), none, "rw", nil, ""},
		{"ro", m(true, false, slave), none, "ro", nil, ""},
		{"rro on runc", m(true, true, private), runc, "rro", nil, ""},
		{"rro on gVisor", m(true, true, private), rro{option: "ro"}, "ro", nil, ""},
		{"rro without readonly", m(false, true, private), runc, "", errdefs.ErrInvalidArgument, "recursive read-only mount of host path /h needs readonly true"},
		{"rro with slave propagation", m(true, true, slave), runc, "", errdefs.ErrInvalidArgument,
			"needs propagation PROPAGATION_PRIVATE, not PROPAGATION_HOST_TO_CONTAINER"},
		{"rro bidirectional", m(true, true, runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL), runc, "", errdefs.ErrInvalidArgument, "not PROPAGATION_BIDIRECTIONAL"},
		{"rro unsupported", m(true, true, private), none, "", errdefs.ErrNotImplemented,
			`runtime handler "lxc" (runtime lcr) has no recursive read-only mounts, asked for host path /h: LXC cannot`},
		{"rro, runtime not asked", m(true, true, private), rro{}, "", errdefs.ErrNotImplemented, "corrald did not ask the runtime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readonlyOption(tc.m, "lxc", "lcr", tc.r)
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
		pod: &runtimeapi.PodSandboxConfig{}, podDir: t.TempDir(), handler: "lxc", runtime: "lcr", rro: rro{why: "LXC cannot"}}
	if _, err := containerMounts(in); !errdefs.IsNotImplemented(err) {
		t.Fatalf("rro on lcr: %v", err)
	}
	if _, err := os.Stat(src); !os.IsNotExist(err) {
		t.Fatalf("a refused mount created its host path: %v", err)
	}
	in.handler, in.runtime, in.rro = "runc", "runc", rro{option: "rro"}
	mounts, err := containerMounts(in)
	if err != nil {
		t.Fatal(err)
	}
	if m := mounts[0]; m.Source != src || m.Destination != "/vol" || !slices.Equal(m.Options, []string{"rbind", "rro", "rprivate"}) {
		t.Errorf("rro mount %+v", m)
	}
}

// TestStatusFeatures checks what Status advertises: supplemental groups policies, and recursive
// read-only mounts on each handler whose runtime makes them, the empty handler as default_runtime's.
func TestStatusFeatures(t *testing.T) {
	dir := fakeRuntimes(t)
	cfg := config.Default()
	cfg.CRI.CNI.ConfDir = t.TempDir()
	for h, rt := range map[string]string{"runc": "runc", "lxc": "lcr", "sc": "runsc"} {
		cfg.CRI.Runtimes[h] = config.CRIRuntime{Runtime: rt}
	}
	s, err := New(Opts{Config: cfg, Resolve: fakeResolve, Lookup: fakeLookup(dir)})
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
	got := map[string]bool{}
	for _, h := range resp.GetRuntimeHandlers() {
		got[h.GetName()] = h.GetFeatures().GetRecursiveReadOnlyMounts()
	}
	want := map[string]bool{"": false, "lxc": false, "runc": kernelRRO() != "", "sc": true} // "" is lcr (fakeResolve)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("recursive read-only mounts by handler %v, want %v", got, want)
	}
}
