package run

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func TestBuildSpec(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		o        options
		wantArgs []string
		wantEnv  []string
		wantCwd  string
		wantErr  string
	}{
		{
			name:     "defaults",
			o:        options{id: "c1", rootfs: dir},
			wantArgs: []string{"sh"}, wantEnv: []string{commands.DefaultPath}, wantCwd: "/",
		},
		{
			name:     "args env cwd",
			o:        options{id: "c1", rootfs: dir, args: []string{"ls", "-l"}, env: []string{"A=1", "B="}, cwd: "/tmp"},
			wantArgs: []string{"ls", "-l"}, wantEnv: []string{commands.DefaultPath, "A=1", "B="}, wantCwd: "/tmp",
		},
		{
			name:     "env overrides PATH and earlier entries",
			o:        options{id: "c1", rootfs: dir, env: []string{"A=1", "PATH=/bin", "A=2=3"}},
			wantArgs: []string{"sh"}, wantEnv: []string{"PATH=/bin", "A=2=3"}, wantCwd: "/",
		},
		{name: "env without =", o: options{id: "c1", rootfs: dir, env: []string{"A"}}, wantErr: `invalid --env "A"`},
		{name: "env without key", o: options{id: "c1", rootfs: dir, env: []string{"=1"}}, wantErr: `invalid --env "=1"`},
		{name: "relative cwd", o: options{id: "c1", rootfs: dir, cwd: "tmp"}, wantErr: `invalid --cwd "tmp"`},
		{name: "missing rootfs", o: options{id: "c1", rootfs: filepath.Join(dir, "nope")}, wantErr: "no such file or directory"},
		{name: "rootfs is a file", o: options{id: "c1", rootfs: file}, wantErr: "is not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.namespace = "ns"
			f, err := parseFlags(tc.o)
			var s *specs.Spec
			if err == nil {
				s, err = buildSpec(context.Background(), tc.o, f, nil)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := s.Process
			if !reflect.DeepEqual(p.Args, tc.wantArgs) || !reflect.DeepEqual(p.Env, tc.wantEnv) || p.Cwd != tc.wantCwd {
				t.Errorf("process = %q %q %q, want %q %q %q", p.Args, p.Env, p.Cwd, tc.wantArgs, tc.wantEnv, tc.wantCwd)
			}
			if s.Hostname != "c1" || s.Root.Path != dir || s.Root.Readonly || s.Linux.CgroupsPath != "/ns/c1" {
				t.Errorf("hostname %q, root %+v, cgroups path %q", s.Hostname, s.Root, s.Linux.CgroupsPath)
			}
			if len(p.Capabilities.Bounding) != 14 || !p.NoNewPrivileges || p.User.UID != 0 || len(s.Linux.Namespaces) != 5 {
				t.Errorf("unexpected defaults: %+v", p)
			}
		})
	}
}

func TestBuildSpecRelativeRootfs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("rootfs", 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := buildSpec(context.Background(), options{id: "c1", rootfs: "rootfs"}, flags{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "rootfs"); s.Root.Path != want {
		t.Errorf("root = %q, want %q", s.Root.Path, want)
	}
}
