package shim_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	runc "github.com/containerd/go-runc"

	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/shim"
)

func TestExitRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := shim.ReadExit(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadExit before WriteExit: %v, want ErrNotExist", err)
	}
	for _, want := range []shim.Exit{
		{Pid: 42, Status: 137, ExitedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)},
		{Pid: 7, Status: 0, ExitedAt: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)},
	} {
		if err := shim.WriteExit(dir, want); err != nil {
			t.Fatal(err)
		}
		got, err := shim.ReadExit(dir)
		if err != nil || !got.ExitedAt.Equal(want.ExitedAt) || got.Pid != want.Pid || got.Status != want.Status {
			t.Fatalf("ReadExit = %+v, %v; want %+v", got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "."+shim.ExitFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary exit file left behind: %v", err)
	}
}

func TestRuntimeError(t *testing.T) {
	dir := t.TempDir()
	before := `{"level":"error","msg":"earlier create failed"}` + "\n"
	after := strings.Join([]string{
		`{"level":"warning","msg":"a warning"}`,
		`{"level":"error","msg":"first error"}`,
		`not json`,
		`{"level":"fatal","msg":"the last error"}`,
		`{"level":"error","msg":""}`,
		`{"level":"info","msg":"info after"}`,
		`{"level":"warning","msg":"late warning"}`,
	}, "\n") + "\n"
	logs := map[string]string{"both": before + after, "before": before, "warnings": before + after[:strings.Index(after, "\n")+1]}
	for name, content := range logs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := errors.New("exit status 1")
	for _, tc := range []struct {
		log  string
		from int64
		want string
	}{
		{"both", int64(len(before)), "the last error"},
		{"both", 0, "the last error"},
		{"before", 0, "earlier create failed"},
		{"before", int64(len(before)), "exit status 1"},
		{"warnings", int64(len(before)), "exit status 1"},
		{"missing", 0, "exit status 1"},
	} {
		path := filepath.Join(dir, tc.log)
		err := shim.RuntimeError(base, path, tc.from)
		if !errors.Is(err, base) || err.Error() != tc.want {
			t.Errorf("RuntimeError(%s from %d) = %q, want %q wrapping the original", tc.log, tc.from, err, tc.want)
		}
	}
	if got := shim.LogSize(filepath.Join(dir, "before")); got != int64(len(before)) {
		t.Errorf("LogSize = %d, want %d", got, len(before))
	}
	if got := shim.LogSize(filepath.Join(dir, "missing")); got != 0 {
		t.Errorf("LogSize of a missing log = %d, want 0", got)
	}
}

func TestConfigRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := &shim.Config{
		Namespace: "default", ID: "c1", Bundle: "/b", Stdin: "/f/0", Stdout: "/f/1", Stderr: "/f/2",
		Options: keeper.Options{Driver: keeper.DriverRunc, Binary: "/usr/bin/runc", Args: []string{"--debug"},
			CreateTimeout: time.Minute, IODrain: 5 * time.Second},
	}
	if err := shim.WriteConfig(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := shim.ReadConfig(dir)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadConfig = %+v, %v; want %+v", got, err, want)
	}
	if _, err := shim.ReadConfig(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadConfig of an empty dir: %v, want ErrNotExist", err)
	}
}

func TestRuntime(t *testing.T) {
	dir := "/run/corral/default/c1"
	rc := shim.Runtime(dir, &shim.Config{Options: keeper.Options{Binary: "/opt/runsc", Args: []string{"--platform=ptrace", "--debug"}}})
	if rc.Command != "/opt/runsc" || rc.Root != dir+"/runc" || rc.Log != dir+"/log.json" || rc.LogFormat != runc.JSON ||
		!reflect.DeepEqual(rc.ExtraArgs, []string{"--platform=ptrace", "--debug"}) {
		t.Fatalf("Runtime = %+v", rc)
	}
	if rc := shim.Runtime(dir, &shim.Config{RuntimeRoot: "/run/corral/default/pod/runc"}); rc.Root != "/run/corral/default/pod/runc" || rc.Log != dir+"/log.json" {
		t.Fatalf("Runtime with a runtime root = %+v", rc)
	}
}
