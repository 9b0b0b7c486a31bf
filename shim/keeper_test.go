package shim_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corral-dev/corral/shim"
)

// keeperEnv makes the test binary run shim.Keep instead of the tests. Keep installs a process-wide
// SIGCHLD reaper and go-runc monitor, so each keeper gets a process of its own, as in production.
const keeperEnv = "CORRAL_SHIM_TEST_KEEPER"

func TestMain(m *testing.M) {
	if os.Getenv(keeperEnv) == "1" {
		// The work dir is the last argument, so shim.Alive recognises the process.
		if err := shim.Keep(context.Background(), os.Args[len(os.Args)-1], os.NewFile(3, "report")); err != nil {
			fmt.Fprintln(os.Stderr, "keep:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeRuntime writes a runc stand-in that logs its arguments to <its dir>/calls; create runs createBody.
func fakeRuntime(t *testing.T, createBody string) (binary, calls string) {
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

type keeper struct {
	dir, bundle, socket, calls string
	report                     map[string]any
	cmd                        *exec.Cmd
	stderr                     bytes.Buffer
}

// startKeeper runs Keep in a child process over a fresh work dir and reads its report line.
func startKeeper(t *testing.T, createBody string) *keeper {
	t.Helper()
	k := &keeper{dir: t.TempDir(), bundle: t.TempDir()}
	k.socket = filepath.Join(k.dir, "s.sock")
	spec := `{"ociVersion":"1.2.0","process":{"user":{"uid":0,"gid":0},"args":["true"],"cwd":"/"}}`
	if err := os.WriteFile(filepath.Join(k.bundle, "config.json"), []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	var binary string
	binary, k.calls = fakeRuntime(t, createBody)
	if err := shim.WriteConfig(k.dir, &shim.Config{
		Namespace: "default", ID: "c1", Bundle: k.bundle, Binary: binary, Args: []string{"--fake-arg"},
		Socket: k.socket, CreateTimeout: 10 * time.Second, IODrain: time.Second,
	}); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	k.cmd = exec.CommandContext(ctx, os.Args[0], "-test.run=^$", k.dir)
	k.cmd.Env = append(os.Environ(), keeperEnv+"=1")
	k.cmd.ExtraFiles = []*os.File{w}
	k.cmd.Stderr = &k.stderr
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	_ = r.SetReadDeadline(time.Now().Add(15 * time.Second))
	line, err := bufio.NewReader(r).ReadBytes('\n')
	if err != nil {
		_ = k.cmd.Wait()
		t.Fatalf("no report from keeper: %v; stderr:\n%s", err, &k.stderr)
	}
	if err := json.Unmarshal(line, &k.report); err != nil {
		t.Fatalf("report %q is not JSON: %v", line, err)
	}
	return k
}

func (k *keeper) callLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(k.calls)
	if err != nil {
		t.Fatal(err)
	}
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

func TestKeepCreateFailure(t *testing.T) {
	k := startKeeper(t, `echo '{"level":"warning","msg":"fake: warming up"}' >>"$log"
		echo '{"level":"error","msg":"fake: cannot create"}' >>"$log"; exit 1`)
	if msg, _ := k.report["error"].(string); !strings.Contains(msg, "fake: cannot create") || k.report["pid"] != nil {
		t.Fatalf("report %v, want an error with the runtime's message and no pid", k.report)
	}
	err := k.cmd.Wait()
	var xerr *exec.ExitError
	if !errors.As(err, &xerr) || !strings.Contains(k.stderr.String(), "fake: cannot create") {
		t.Fatalf("keeper exited with %v, want Keep's error; stderr:\n%s", err, &k.stderr)
	}
	if calls := k.callLines(t); !contains(calls, "--root "+k.dir+"/runc --log "+k.dir+"/log.json --log-format json --fake-arg delete --force c1") {
		t.Errorf("failed create was not rolled back with delete --force; calls:\n%s", strings.Join(calls, "\n"))
	}
	if _, err := shim.ReadExit(k.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("exit file after failed create: %v", err)
	}
	if _, err := os.Stat(k.socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
}

func TestKeepSuccess(t *testing.T) {
	k := startKeeper(t, `(sleep 0.5; exit 3) </dev/null >/dev/null 2>&1 & printf %s $! >"$pidfile"`)
	pid, ok := k.report["pid"].(float64)
	if !ok || pid <= 0 {
		t.Fatalf("report %v, want a pid", k.report)
	}
	if b, err := os.ReadFile(filepath.Join(k.dir, shim.InitPIDFile)); err != nil || string(b) != strconv.Itoa(int(pid)) {
		t.Fatalf("init.pid %q, %v; reported %v", b, err, pid)
	}
	type result struct {
		e   shim.Exit
		err error
	}
	waited := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		e, err := shim.Wait(ctx, k.dir, k.socket, "")
		waited <- result{e, err}
	}()
	if err := k.cmd.Wait(); err != nil {
		t.Fatalf("keeper: %v; stderr:\n%s", err, &k.stderr)
	}
	res := <-waited
	if res.err != nil || res.e.Pid != uint32(pid) || res.e.Status != 3 || res.e.ExitedAt.IsZero() {
		t.Fatalf("Wait = %+v, %v; want pid %v status 3", res.e, res.err, pid)
	}
	if e, err := shim.ReadExit(k.dir); err != nil || e.Pid != res.e.Pid || e.Status != 3 {
		t.Fatalf("exit file %+v, %v", e, err)
	}
	global := "--root " + k.dir + "/runc --log " + k.dir + "/log.json --log-format json --fake-arg "
	calls := k.callLines(t)
	for _, want := range []string{
		global + "create --bundle " + k.bundle + " --pid-file " + k.dir + "/init.pid c1",
		global + "kill --all c1 9",
		global + "delete --force c1",
	} {
		if !contains(calls, want) {
			t.Errorf("runtime was not called with %q; calls:\n%s", want, strings.Join(calls, "\n"))
		}
	}
	// After the keeper is gone, Wait falls back to the exit file.
	if e, err := shim.Wait(context.Background(), k.dir, k.socket, ""); err != nil || e.Status != 3 {
		t.Fatalf("Wait after keeper exit = %+v, %v", e, err)
	}
}
