package shim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/engine/lcr"
)

// fakeHierarchies are cgroup v1 hierarchies in a temporary directory.
func fakeHierarchies(t *testing.T) *lcr.Hierarchies {
	cg := t.TempDir()
	return &lcr.Hierarchies{V1: map[string]string{"pids": filepath.Join(cg, "pids"), "freezer": filepath.Join(cg, "freezer")}}
}

func lxcSpec() *specs.Spec {
	// The host's own root stands in for a rootfs: the command is found in it.
	return &specs.Spec{Root: &specs.Root{Path: "/"}, Process: &specs.Process{Args: []string{"true"}, Cwd: "/"},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}}}}
}

func TestWriteLXCConfig(t *testing.T) {
	h := fakeHierarchies(t)
	seccomp := lxcSpec()
	seccomp.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActKillProcess}
	busy := lxcSpec()
	busy.Linux.CgroupsPath = "/busy/c1"
	missing := lxcSpec()
	missing.Process.Args = []string{"nosuchcmd"}
	procs := filepath.Join(h.V1["pids"], "busy/c1/cgroup.procs")
	if err := os.MkdirAll(filepath.Dir(procs), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(procs, []byte("42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(h.V1["pids"], "corral/default/tree/someone-elses")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(h.V1["pids"], "corral/default/ok.monitor")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, id string
		spec     *specs.Spec
		class    error
		contains string
	}{
		{"unexpressible field", "c1", seccomp, errdefs.ErrNotImplemented, "linux.seccomp"},
		{"cgroup in use", "c1", busy, errdefs.ErrAlreadyExists, "busy/c1 is in use by processes [42]"},
		{"cgroup tree", "tree", lxcSpec(), errdefs.ErrAlreadyExists, "child cgroups"},
		{"missing command", "c1", missing, errdefs.ErrFailedPrecondition, `"nosuchcmd": executable file not found`},
		{"stale monitor cgroup removed", "ok", lxcSpec(), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := writeLXCConfig(dir, &Config{Namespace: "default", ID: tc.id}, tc.spec, h)
			if tc.contains == "" {
				if err != nil || c.Cgroup != "corral/default/ok" || c.Name != "ok" {
					t.Fatalf("writeLXCConfig = %+v, %v", c, err)
				}
				if _, err := os.Stat(filepath.Join(dir, LXCPath, "ok", "config")); err != nil {
					t.Errorf("no LXC config written: %v", err)
				}
				if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("stale monitor cgroup not removed: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.class) || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("writeLXCConfig: %v, want a %v error mentioning %q", err, tc.class, tc.contains)
			}
		})
	}
	if _, err := os.Stat(tree); err != nil {
		t.Errorf("another user's cgroup was removed: %v", err)
	}
}

// TestWriteLXCConfigSeccomp: the seccomp policy is written next to the config, which loads it.
func TestWriteLXCConfigSeccomp(t *testing.T) {
	spec := lxcSpec()
	spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"sethostname"}, Action: specs.ActErrno}}}
	dir := t.TempDir()
	if _, err := writeLXCConfig(dir, &Config{Namespace: "default", ID: "sec"}, spec, fakeHierarchies(t)); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, LXCPath, "sec", "seccomp")
	b, err := os.ReadFile(policy)
	if err != nil || string(b) != "2\ndenylist allow\nsethostname errno 1\n" {
		t.Errorf("policy %q, %v", b, err)
	}
	conf, err := os.ReadFile(filepath.Join(dir, LXCPath, "sec", "config"))
	if err != nil || !strings.Contains(string(conf), `lxc.seccomp.profile = "`+policy+`"`) {
		t.Errorf("config does not load the policy (%v):\n%s", err, conf)
	}
}
