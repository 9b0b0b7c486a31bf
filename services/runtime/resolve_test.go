package runtime_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/pkg/kernelversion"
	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/config"
	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/runtime/lcr"
	v1 "github.com/corral-dev/corral/runtime/v1"
	v2 "github.com/corral-dev/corral/runtime/v2"
	svc "github.com/corral-dev/corral/services/runtime"
)

func registry(v2Unavailable error) *runtime.Registry {
	shims := v2.New(v2.Opts{})
	return runtime.NewRegistry(
		runtime.Family{Name: "lcr", Ops: lcr.New(shims, nil, v1.Opts{})},
		runtime.Family{Name: "shim v2", Ops: shims.ShimV2(), Unavailable: v2Unavailable},
		runtime.Family{Name: "shim v1", Ops: v1.New(shims, v1.Opts{})},
	)
}

func resolver(defaultRuntime string, runtimes map[string]config.Runtime) *svc.Resolver {
	cfg := config.Default()
	cfg.DefaultRuntime = defaultRuntime
	for n, rt := range runtimes {
		cfg.Runtimes[n] = rt
	}
	return svc.NewResolver(cfg, registry(nil))
}

// executable writes an executable file named name in dir and returns its path.
func executable(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolve(t *testing.T) {
	configured := map[string]config.Runtime{"my-runc": {}}
	for _, tc := range []struct {
		requested, def, want string
		wantErr              []string // substrings of an InvalidArgument error
	}{
		{want: "lcr"},
		{def: "runc", want: "runc"},
		{requested: "runsc", def: "runc", want: "runsc"},
		{requested: "RUNC", want: "runc"},
		{def: "Kata-Runtime", want: "kata-runtime"},
		{requested: "LCR", def: "runc", want: "lcr"},
		{requested: "io.containerd.runc.v2", want: "io.containerd.runc.v2"},
		{requested: "io.containerd.Kata.v2", want: "io.containerd.kata.v2"},
		{requested: "my-runc", want: "my-runc"},
		{def: "MY-RUNC", want: "my-runc"},
		{requested: "foo", wantErr: []string{`"foo"`, "lcr, runc, kata-runtime, runsc", "my-runc"}},
		{def: "foo", wantErr: []string{`"foo"`}},
		{requested: "io.containerd.runc", wantErr: []string{"four parts"}},
		{requested: "io.containerd.runc.v2.x", wantErr: []string{"four parts"}},
	} {
		got, err := resolver(tc.def, configured).Resolve(tc.requested)
		if tc.wantErr != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("Resolve(%q) with default %q: got %q, %v; want InvalidArgument", tc.requested, tc.def, got, err)
				continue
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Resolve(%q): error %q does not mention %q", tc.requested, err, s)
				}
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q) with default %q = %q, %v; want %q", tc.requested, tc.def, got, err, tc.want)
		}
	}
}

func TestLookup(t *testing.T) {
	bin := t.TempDir()
	runc := executable(t, bin, "my-runc-binary")
	runsc := executable(t, bin, "runsc")
	plain := filepath.Join(bin, "not-executable")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(bin, "missing")
	r := resolver("", map[string]config.Runtime{
		"runc":    {Path: runc, RuntimeArgs: []string{"--debug", "--systemd-cgroup"}},
		"gone":    {Path: missing},
		"plain":   {Path: plain},
		"dir":     {Path: bin},
		"on-path": {RuntimeArgs: []string{"--x"}},
	})
	for _, tc := range []struct {
		name, family string
		want         runtime.Binary
		errIs        error
		errHas       []string
	}{
		{name: "lcr", family: "lcr", want: runtime.Binary{Name: "lcr"}},
		{name: "runc", family: "shim v1", want: runtime.Binary{Name: "runc", Path: runc, Args: []string{"--debug", "--systemd-cgroup"}}},
		{name: "gone", errIs: errdefs.ErrFailedPrecondition, errHas: []string{missing, "does not exist", "choose another with --runtime"}},
		{name: "plain", errIs: errdefs.ErrFailedPrecondition, errHas: []string{plain, "not an executable"}},
		{name: "dir", errIs: errdefs.ErrFailedPrecondition, errHas: []string{"not an executable"}},
		{name: "kata-runtime", errIs: errdefs.ErrFailedPrecondition, errHas: []string{"binary kata-runtime not found", "--runtime"}},
		{name: "on-path", errIs: errdefs.ErrFailedPrecondition, errHas: []string{"binary on-path not found"}},
		{name: "io.containerd.runc.v2", errIs: errdefs.ErrFailedPrecondition, errHas: []string{"containerd-shim-runc-v2"}},
		{name: "runsc", family: "shim v1", want: runtime.Binary{Name: "runsc", Path: runsc}},
		{name: "foo", errIs: errdefs.ErrInvalidArgument},
	} {
		t.Setenv("PATH", t.TempDir())
		if tc.name == "runsc" {
			t.Setenv("PATH", bin)
		}
		f, got, err := r.Lookup(tc.name)
		if tc.errIs != nil {
			if !errors.Is(err, tc.errIs) {
				t.Errorf("Lookup(%q): got %v, want %v", tc.name, err, tc.errIs)
				continue
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Lookup(%q): error %q does not mention %q", tc.name, err, s)
				}
			}
			continue
		}
		if err != nil || f.Name != tc.family || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Lookup(%q) = %s, %+v, %v; want %s, %+v", tc.name, f.Name, got, err, tc.family, tc.want)
		}
	}
}

func TestUserNamespaces(t *testing.T) {
	bin := t.TempDir()
	for _, b := range []string{"runc", "runsc", "containerd-shim-runc-v2", "containerd-shim-runsc-v1"} {
		executable(t, bin, b)
	}
	t.Setenv("PATH", bin)
	r := resolver("", map[string]config.Runtime{"my-runc": {Path: filepath.Join(bin, "runc")}, "my-gvisor": {Path: filepath.Join(bin, "runsc")}})
	for name, want := range map[string]bool{
		"runc": true, "my-runc": true, "io.containerd.runc.v2": true,
		"lcr": false, "runsc": false, "my-gvisor": false, "io.containerd.runsc.v1": false, "kata-runtime": false, "foo": false,
	} {
		if got := r.Features(context.Background(), name).UserNamespaces; got != want {
			t.Errorf("Features(%q).UserNamespaces = %v, want %v", name, got, want)
		}
	}
}

// fakeRuntimes writes scripts standing in for OCI runtimes to a directory: runc (features with
// rro), old-runc (features without), runsc (no features; gVisor's version line), kata (neither),
// and the shim v2 binaries of runc and kata, and returns the directory.
func fakeRuntimes(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"runc":                    `[ "$1" = features ] && echo '{"ociVersionMin": "1.0.0", "mountOptions": ["ro", "rbind", "rro"]}'`,
		"old-runc":                `[ "$1" = features ] && echo '{"ociVersionMin": "1.0.0", "mountOptions": ["ro", "rbind"]}'`,
		"runsc":                   `[ "$1" = --version ] && echo 'runsc version 0.0~20221219.0' && exit 0; exit 128`,
		"kata":                    `echo 'kata-runtime 3'; exit 1`,
		"containerd-shim-runc-v2": `exit 0`,
		"containerd-shim-kata-v2": `exit 0`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// kernelRRO is "rro" where the kernel has mount_setattr, else "".
func kernelRRO() string {
	if ok, err := kernelversion.GreaterEqualThan(kernelversion.KernelVersion{Kernel: 5, Major: 12}); ok && err == nil {
		return "rro"
	}
	return ""
}

// TestRecursiveReadOnly checks how each family's runtime says it makes recursive read-only mounts.
func TestRecursiveReadOnly(t *testing.T) {
	dir := fakeRuntimes(t)
	t.Setenv("PATH", dir) // shim v2 io.containerd.runc.* runs runc from $PATH
	r := resolver("", map[string]config.Runtime{"old-runc": {Path: filepath.Join(dir, "old-runc")},
		"kata": {Path: filepath.Join(dir, "kata")}, "missing": {Path: filepath.Join(dir, "missing")}})
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
			got := r.Features(context.Background(), tc.runtime)
			if got.RecursiveReadOnly != tc.option || !strings.Contains(got.NoRecursiveReadOnly, tc.why) || (tc.option == "") != (got.NoRecursiveReadOnly != "") {
				t.Errorf("got %+v, want option %q, why containing %q", got, tc.option, tc.why)
			}
		})
	}
}

func TestLookupUnavailableFamily(t *testing.T) {
	why := errors.New("containerd-shim-runc-v2 is missing")
	r := svc.NewResolver(config.Default(), registry(why))
	f, _, err := r.Lookup("io.containerd.runc.v2")
	if !errors.Is(err, why) || f.Name != "shim v2" {
		t.Fatalf("got family %q, %v; want shim v2 and an error wrapping %v", f.Name, err, why)
	}
	if !strings.Contains(err.Error(), `"io.containerd.runc.v2" is not available`) {
		t.Fatalf("error %q does not name the runtime", err)
	}
}

func TestList(t *testing.T) {
	exe := executable(t, t.TempDir(), "bin")
	t.Setenv("PATH", t.TempDir())
	r := resolver("MY-RUNC", map[string]config.Runtime{
		"runc":    {Path: exe},
		"my-runc": {Path: exe, RuntimeArgs: []string{"--a"}},
	})
	type row struct {
		Name, Family, Source string
		Installed, Default   bool
	}
	var got []row
	for _, i := range list(r) {
		got = append(got, row{i.Name, i.Family, i.Source, i.Installed, i.Default})
		if i.Installed != (i.Err == nil) {
			t.Errorf("%s: Installed %v with Err %v", i.Name, i.Installed, i.Err)
		}
		if i.Name == "my-runc" && (i.Path != exe || !reflect.DeepEqual(i.Args, []string{"--a"})) {
			t.Errorf("my-runc: path %q args %q", i.Path, i.Args)
		}
	}
	want := []row{
		{"kata-runtime", "shim v1", "built-in", false, false},
		{"lcr", "lcr", "built-in", true, false},
		{"my-runc", "shim v1", "config", true, true},
		{"runc", "shim v1", "built-in, config", true, false},
		{"runsc", "shim v1", "built-in", false, false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List() =\n%+v\nwant\n%+v", got, want)
	}
	for _, i := range list(resolver("", nil)) {
		if i.Default != (i.Name == "lcr") {
			t.Errorf("without default_runtime, %s has Default %v", i.Name, i.Default)
		}
	}
}

// list describes every runtime name r knows.
func list(r *svc.Resolver) []svc.Info {
	names, source := r.Names()
	var out []svc.Info
	for _, n := range names {
		out = append(out, r.Info(n, source[n]))
	}
	return out
}
