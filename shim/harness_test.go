package shim_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	task "github.com/containerd/containerd/api/runtime/task/v2"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/ttrpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"

	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/shim"
)

// keeperEnv makes the test binary act as corral-shim: the keeper installs a process-wide SIGCHLD
// reaper and go-runc monitor, so each keeper gets a process of its own, as in production.
const keeperEnv = "CORRAL_SHIM_TEST_KEEPER"

func TestMain(m *testing.M) {
	if os.Getenv(keeperEnv) == "1" {
		os.Exit(runShim(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// runShim is cmd/corral-shim in the test binary.
func runShim(args []string) int {
	var f shim.Flags
	fs := flag.NewFlagSet("corral-shim", flag.ContinueOnError)
	fs.StringVar(&f.Namespace, "namespace", "", "")
	fs.StringVar(&f.ID, "id", "", "")
	fs.StringVar(&f.Address, "address", "", "")
	fs.StringVar(&f.Bundle, "bundle", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	switch fs.Arg(0) {
	case "start":
		var address string
		if address, err = shim.Start(f); err == nil {
			fmt.Print(address)
		}
	case "delete":
		var resp *task.DeleteResponse
		if resp, err = shim.Delete(context.Background(), f); err == nil {
			b, _ := proto.Marshal(resp)
			os.Stdout.Write(b)
		}
	default:
		err = shim.Serve(context.Background(), f, shim.DefaultOptions("corral-shim"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// testShim is a keeper started with the start bootstrap, and a task API client of it.
type testShim struct {
	id, bundle string
	task       task.TTRPCTaskService
	client     *ttrpc.Client
}

// startShim writes spec to a fresh bundle and starts a keeper for it.
func startShim(t *testing.T, id string, spec *specs.Spec) *testShim {
	t.Helper()
	s := &testShim{id: id, bundle: filepath.Join(t.TempDir(), id)}
	if err := os.Mkdir(s.bundle, 0o700); err != nil {
		t.Fatal(err)
	}
	writeSpec(t, s.bundle, spec)
	out, err := s.bootstrap(t, "start").Output()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	conn, err := net.Dial("unix", strings.TrimPrefix(string(out), "unix://"))
	if err != nil {
		t.Fatalf("dial %s: %v", out, err)
	}
	s.client = ttrpc.NewClient(conn)
	s.task = task.NewTTRPCTaskClient(s.client)
	t.Cleanup(func() {
		s.client.Close()
		_, _ = s.bootstrap(t, "delete").Output()
	})
	return s
}

// bootstrap is a corral-shim invocation with the given action in the bundle.
func (s *testShim) bootstrap(t *testing.T, action string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-namespace", "test", "-id", s.id, "-address", "/corral-test/"+t.Name(), action)
	cmd.Dir = s.bundle
	cmd.Env = append(os.Environ(), keeperEnv+"=1", keeper.EnvSocketDir+"="+filepath.Dir(s.bundle), "TTRPC_ADDRESS=")
	cmd.Stderr = os.Stderr
	return cmd
}

// create creates the container with opts.
func (s *testShim) create(t *testing.T, opts keeper.Options) (*task.CreateTaskResponse, error) {
	t.Helper()
	a, err := opts.Any()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := s.task.Create(ctx, &task.CreateTaskRequest{ID: s.id, Bundle: s.bundle, Options: a})
	return resp, errgrpc.ToNative(err)
}

// wait returns the exit of the init or an exec.
func (s *testShim) wait(t *testing.T, execID string) *task.WaitResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := s.task.Wait(ctx, &task.WaitRequest{ID: s.id, ExecID: execID})
	if err != nil {
		t.Fatalf("wait %q: %v", execID, err)
	}
	return resp
}

// must returns v, or panics on a task API error, which fails the test with its stack.
func must[T any](v T, err error) T {
	if err != nil {
		panic(errgrpc.ToNative(err))
	}
	return v
}

// shutdown deletes the container and has the keeper exit; the socket goes with it.
func (s *testShim) shutdown(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	must(s.task.Delete(ctx, &task.DeleteRequest{ID: s.id}))
	// The keeper may exit before its answer is read, as containerd's shims do: ignore the error.
	_, _ = s.task.Shutdown(ctx, &task.ShutdownRequest{ID: s.id})
	b, err := os.ReadFile(filepath.Join(s.bundle, shim.AddressFile))
	if err != nil {
		t.Fatal(err)
	}
	sock := strings.TrimPrefix(string(b), "unix://")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(sock); errors.Is(err, os.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("socket %s left after Shutdown", sock)
		}
	}
}
