package lcr_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	lxc "github.com/corral-dev/corral/engine/lcr"
	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/runtime/lcr"
	"github.com/corral-dev/corral/shim"
)

// family returns the lcr family over a temporary state dir and fake v1 cgroup hierarchies.
func family(t *testing.T) (*lcr.Runtime, string, *lxc.Hierarchies) {
	t.Helper()
	cg := t.TempDir()
	h := &lxc.Hierarchies{V1: map[string]string{"pids": filepath.Join(cg, "pids"), "freezer": filepath.Join(cg, "freezer")}}
	state := t.TempDir()
	return lcr.New(lcr.Opts{Host: &lxc.Host{Dir: t.TempDir(), Cgroups: h}, Keeper: shim.KeeperOpts{State: state,
		ShimBinary: "/nonexistent/corral-shim", CreateTimeout: time.Second, CallTimeout: time.Second, IODrain: time.Second}}), state, h
}

func bundle(t *testing.T, s *specs.Spec) string {
	t.Helper()
	dir := t.TempDir()
	b, _ := json.Marshal(s)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func spec() *specs.Spec {
	// The host's own root stands in for a rootfs: Create finds the command in it.
	return &specs.Spec{Root: &specs.Root{Path: "/"}, Process: &specs.Process{Args: []string{"true"}, Cwd: "/"},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}}}}
}

func TestDetect(t *testing.T) {
	r := lcr.New(lcr.Opts{})
	for name, want := range map[string]bool{"lcr": true, "LCR": true, "Lcr": true, "runc": false, "lcrx": false, "": false} {
		if got := r.Detect(name); got != want {
			t.Errorf("Detect(%q) = %v", name, got)
		}
	}
}

func TestCreateFailures(t *testing.T) {
	r, state, h := family(t)
	seccomp := spec()
	seccomp.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	busy := spec()
	busy.Linux.CgroupsPath = "/busy/c1"
	procs := filepath.Join(h.V1["pids"], "busy/c1/cgroup.procs")
	if err := os.MkdirAll(filepath.Dir(procs), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(procs, []byte("42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		opts     runtime.CreateOpts
		class    error
		contains string
	}{
		{"terminal", runtime.CreateOpts{Task: runtime.Task{Bundle: bundle(t, spec())}, Terminal: true}, errdefs.ErrNotImplemented, "terminal"},
		{"unexpressible field", runtime.CreateOpts{Task: runtime.Task{Bundle: bundle(t, seccomp)}}, errdefs.ErrNotImplemented, "linux.seccomp"},
		{"cgroup in use", runtime.CreateOpts{Task: runtime.Task{Bundle: bundle(t, busy)}}, errdefs.ErrAlreadyExists, "busy/c1 is in use by processes [42]"},
		{"keeper fails", runtime.CreateOpts{Task: runtime.Task{Bundle: bundle(t, spec())}}, nil, "/nonexistent/corral-shim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Namespace, tc.opts.ID = "default", "c1"
			_, err := r.Create(context.Background(), tc.opts)
			if err == nil || tc.class != nil && !errors.Is(err, tc.class) || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("Create: %v, want a %v error mentioning %q", err, tc.class, tc.contains)
			}
			if entries, _ := os.ReadDir(filepath.Join(state, "default")); len(entries) > 0 {
				t.Errorf("work dir left after a failed create: %v", entries)
			}
		})
	}
}

func TestCreateRemovesStaleCgroups(t *testing.T) {
	r, _, h := family(t)
	stale := filepath.Join(h.V1["pids"], "corral/default/c1.monitor")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := r.Create(context.Background(), runtime.CreateOpts{Task: runtime.Task{Namespace: "default", ID: "c1", Bundle: bundle(t, spec())}})
	if err == nil {
		t.Fatal("Create with no corral-shim succeeded")
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale monitor cgroup not removed: %v", err)
	}
}

func TestOpsWithoutWorkDir(t *testing.T) {
	r, state, h := family(t)
	task := runtime.Task{Namespace: "default", ID: "gone"}
	ctx := context.Background()
	if st, err := r.Status(ctx, task); err != nil || st.State != runtime.Stopped {
		t.Errorf("Status = %+v, %v; want stopped", st, err)
	}
	for name, err := range map[string]error{
		"pause": r.Pause(ctx, task), "resume": r.Resume(ctx, task), "update": r.Update(ctx, task, &specs.LinuxResources{}),
	} {
		if !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("%s without a work dir: %v, want NotFound", name, err)
		}
	}
	if err := r.Delete(ctx, task); err != nil {
		t.Errorf("Delete of a gone task: %v", err)
	}
	// A started task's pids come from its cgroup; a created one cannot be paused.
	c := shim.NewClient(state, "default", "c2", time.Second)
	if err := c.MakeWorkDir(); err != nil {
		t.Fatal(err)
	}
	if err := shim.WriteConfig(c.Dir, &shim.Config{ID: "c2", Driver: shim.DriverLXC, LXC: &shim.LXCConfig{Name: "c2", Cgroup: "default/c2"}}); err != nil {
		t.Fatal(err)
	}
	procs := filepath.Join(h.V1["pids"], "default/c2/cgroup.procs")
	_ = os.MkdirAll(filepath.Dir(procs), 0o755)
	_ = os.WriteFile(procs, []byte("7\n8\n"), 0o644)
	ps, err := r.Pids(ctx, runtime.Task{Namespace: "default", ID: "c2"})
	if err != nil || !reflect.DeepEqual(ps, []runtime.Process{{Pid: 7}, {Pid: 8}}) {
		t.Errorf("Pids = %v, %v", ps, err)
	}
	if err := r.Pause(ctx, runtime.Task{Namespace: "default", ID: "c2"}); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("Pause of a created task: %v, want FailedPrecondition", err)
	}
	if err := r.Update(ctx, runtime.Task{Namespace: "default", ID: "c2"}, &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: true}}}); !errors.Is(err, errdefs.ErrNotImplemented) {
		t.Errorf("Update of device rules: %v, want NotImplemented", err)
	}
}

func TestCreateRefusesACgroupTree(t *testing.T) {
	r, _, h := family(t)
	child := filepath.Join(h.V1["pids"], "corral/default/c1/someone-elses")
	if err := os.MkdirAll(child, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := r.Create(context.Background(), runtime.CreateOpts{Task: runtime.Task{Namespace: "default", ID: "c1", Bundle: bundle(t, spec())}})
	if !errors.Is(err, errdefs.ErrAlreadyExists) || !strings.Contains(err.Error(), "child cgroups") {
		t.Fatalf("Create over a cgroup tree: %v, want AlreadyExists naming the child cgroups", err)
	}
	if _, err := os.Stat(child); err != nil {
		t.Errorf("another user's cgroup was removed: %v", err)
	}
}
