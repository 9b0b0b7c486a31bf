package shim_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	task "github.com/containerd/containerd/api/runtime/task/v2"
	apitask "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/shim"
)

// fakeRuntime writes a runc stand-in that logs its arguments to <its dir>/calls; create runs
// createBody, start startBody.
func fakeRuntime(t *testing.T, createBody, startBody string) (binary, calls string) {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
echo "$*" >>"${0%/*}/calls"
log= pidfile= sub=
while [ $# -gt 0 ]; do
	case $1 in
	--log) log=$2; shift ;;
	--pid-file) pidfile=$2; shift ;;
	--root|--log-format|--bundle) shift ;;
	-*) ;;
	*) [ -n "$sub" ] || sub=$1 ;;
	esac
	shift
done
case $sub in
create) ` + createBody + ` ;;
start) ` + startBody + ` ;;
kill|delete) exit 0 ;;
*) exit 2 ;;
esac
`
	binary = filepath.Join(dir, "runc")
	if err := os.WriteFile(binary, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return binary, filepath.Join(dir, "calls")
}

func writeSpec(t *testing.T, bundle string, s *specs.Spec) {
	t.Helper()
	if s == nil {
		s = &specs.Spec{Version: "1.2.0", Process: &specs.Process{Args: []string{"true"}, Cwd: "/"}}
	}
	b, _ := json.Marshal(s)
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func calls(t *testing.T, path string) []string {
	t.Helper()
	b, _ := os.ReadFile(path)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func TestCreateFailureRollsBack(t *testing.T) {
	s := startShim(t, "c1", nil)
	bin, callsFile := fakeRuntime(t, `echo '{"level":"warning","msg":"fake: warming up"}' >>"$log"
		echo '{"level":"error","msg":"fake: cannot create"}' >>"$log"; exit 1`, "exit 0")
	_, err := s.create(t, keeper.Options{Driver: keeper.DriverRunc, Binary: bin, Args: []string{"--fake-arg"}})
	if err == nil || !strings.Contains(err.Error(), "fake: cannot create") || strings.Contains(err.Error(), "warming up") {
		t.Fatalf("create: %v, want the runtime's error line", err)
	}
	want := "--root " + s.bundle + "/runc --log " + s.bundle + "/log.json --log-format json --fake-arg delete --force c1"
	if c := calls(t, callsFile); !contains(c, want) {
		t.Errorf("failed create was not rolled back with delete --force; calls:\n%s", strings.Join(c, "\n"))
	}
	if _, err := shim.ReadExit(s.bundle); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("exit file after failed create: %v", err)
	}
	// The keeper holds no container: Shutdown lets it go.
	_, _ = s.task.Shutdown(context.Background(), &task.ShutdownRequest{ID: "c1"})
}

func TestRuncLifecycle(t *testing.T) {
	s := startShim(t, "c2", nil)
	bin, callsFile := fakeRuntime(t, `(sleep 0.3; exit 3) </dev/null >/dev/null 2>&1 & printf %s $! >"$pidfile"`, "exit 0")
	resp, err := s.create(t, keeper.Options{Driver: keeper.DriverRunc, Binary: bin})
	if err != nil || resp.Pid == 0 {
		t.Fatalf("create = %v, %v; want a pid", resp, err)
	}
	ctx := context.Background()
	if st := must(s.task.State(ctx, &task.StateRequest{ID: "c2"})); st.Status != apitask.Status_CREATED || st.Pid != resp.Pid {
		t.Errorf("state after create %v", st)
	}
	if _, err := s.task.Delete(ctx, &task.DeleteRequest{ID: "c2", ExecID: "nope"}); !errdefs.IsNotFound(errgrpc.ToNative(err)) {
		t.Errorf("delete of an unknown exec: %v, want NotFound", err)
	}
	must(s.task.Start(ctx, &task.StartRequest{ID: "c2"}))
	if _, err := s.task.Start(ctx, &task.StartRequest{ID: "c2"}); !errdefs.IsFailedPrecondition(errgrpc.ToNative(err)) {
		t.Errorf("second start: %v, want FailedPrecondition", err)
	}
	if _, err := s.task.Kill(ctx, &task.KillRequest{ID: "c2", Signal: 9999}); !errdefs.IsInvalidArgument(errgrpc.ToNative(err)) {
		t.Errorf("kill with signal 9999: %v, want InvalidArgument", err)
	}
	if w := s.wait(t, ""); w.ExitStatus != 3 {
		t.Fatalf("wait = %v, want status 3", w)
	}
	if e, err := shim.ReadExit(s.bundle); err != nil || e.Pid != resp.Pid || e.Status != 3 {
		t.Fatalf("exit file %+v, %v", e, err)
	}
	spec, _ := json.Marshal(&specs.Process{Args: []string{"true"}, Cwd: "/"})
	_, err = s.task.Exec(ctx, &task.ExecProcessRequest{ID: "c2", ExecID: "e1", Spec: &anypb.Any{Value: spec}})
	if !errdefs.IsFailedPrecondition(errgrpc.ToNative(err)) {
		t.Errorf("exec into a stopped container: %v, want FailedPrecondition", err)
	}
	global := "--root " + s.bundle + "/runc --log " + s.bundle + "/log.json --log-format json "
	c := calls(t, callsFile)
	for _, want := range []string{
		global + "create --bundle " + s.bundle + " --pid-file " + s.bundle + "/init.pid c2",
		global + "start c2",
		global + "kill --all c2 9",
		global + "delete --force c2",
	} {
		if !contains(c, want) {
			t.Errorf("runtime was not called with %q; calls:\n%s", want, strings.Join(c, "\n"))
		}
	}
	s.shutdown(t)
}

// TestDeleteBootstrap: the delete subcommand answers with the recorded exit of a keeper that is gone,
// or with SIGKILL's after forcing the container down.
func TestDeleteBootstrap(t *testing.T) {
	s := startShim(t, "c3", nil)
	bin, callsFile := fakeRuntime(t, `sleep 1000 </dev/null >/dev/null 2>&1 & printf %s $! >"$pidfile"`, "exit 0")
	resp, err := s.create(t, keeper.Options{Driver: keeper.DriverRunc, Binary: bin, CallTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(int(resp.Pid), syscall.SIGKILL) }) // the fake runtime cannot kill it
	out, err := s.bootstrap(t, "delete").Output()
	if err != nil {
		t.Fatal(err)
	}
	var d task.DeleteResponse
	if err := proto.Unmarshal(out, &d); err != nil || d.ExitStatus != 137 || d.Pid != resp.Pid {
		t.Fatalf("delete answered %v, %v; want pid %d status 137", &d, err, resp.Pid)
	}
	if c := calls(t, callsFile); !contains(c, "--root "+s.bundle+"/runc --log "+s.bundle+"/log.json --log-format json delete --force c3") {
		t.Errorf("delete did not remove the runtime's state; calls:\n%s", strings.Join(c, "\n"))
	}
	if _, err := s.task.Connect(context.Background(), &task.ConnectRequest{ID: "c3"}); err == nil {
		t.Error("the keeper still answers after delete")
	}
	if err := shim.WriteExit(s.bundle, shim.Exit{Pid: 42, Status: 7, ExitedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	out, err = s.bootstrap(t, "delete").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(out, &d); err != nil || d.ExitStatus != 7 || d.Pid != 42 {
		t.Fatalf("delete answered %v, %v; want the recorded pid 42 status 7", &d, err)
	}
}
