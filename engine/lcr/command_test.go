package lcr

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckCommand(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"bin", "opt/app"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("busybox", filepath.Join(root, "bin/sh")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "opt/app/data"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		env  []string
		cwd  string
		ok   bool
	}{
		{args: []string{"sh", "-c", "true"}, ok: true},
		{args: []string{"busybox"}, ok: true},
		{args: []string{"/bin/sh"}, ok: true},
		{args: []string{"../bin/sh"}, cwd: "/opt", ok: true},
		{args: []string{"nosuchcmd"}},
		{args: []string{"sh"}, env: []string{"PATH=/opt/app"}},
		{args: []string{"/opt/app/data"}},
		{args: []string{"/nonexistent"}},
	} {
		s := &specs.Spec{Root: &specs.Root{Path: root}, Process: &specs.Process{Args: tc.args, Env: tc.env, Cwd: tc.cwd}}
		err := CheckCommand(s)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, errdefs.ErrFailedPrecondition)) {
			t.Errorf("CheckCommand(%v, %v) = %v", tc.args, tc.env, err)
		}
	}
	for _, missing := range []string{filepath.Join(root, "nosuchdir"), filepath.Join(root, "bin/busybox")} {
		s := &specs.Spec{Root: &specs.Root{Path: missing}, Process: &specs.Process{Args: []string{"sh"}}}
		if err := CheckCommand(s); err == nil || !strings.Contains(err.Error(), "rootfs") || !errors.Is(err, errdefs.ErrFailedPrecondition) {
			t.Errorf("CheckCommand with rootfs %s = %v, want the rootfs blamed", missing, err)
		}
	}
}
