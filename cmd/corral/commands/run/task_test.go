package run

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	apitask "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/cmd/corral/commands"
)

// fakeDaemon records calls as "namespace method" and plays a task that echoes stdin to stdout,
// writes to stderr and exits with status 3. With lose, it exits before its output ends, and corrald
// goes away after reporting the exit.
type fakeDaemon struct {
	mu      sync.Mutex
	calls   []string
	fail    string // method that fails
	lose    bool
	stop    func() // stops the server
	started chan struct{}
	exited  chan struct{}
	spec    []byte
	create  *tasksapi.CreateTaskRequest
}

func (f *fakeDaemon) record(ctx context.Context, method string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, strings.Join(md.Get(api.NamespaceKey), ",")+" "+method)
	if method == f.fail {
		return errgrpc.ToGRPC(errdefs.ErrFailedPrecondition)
	}
	return nil
}

type fakeContainers struct {
	*fakeDaemon
	containersapi.UnimplementedContainersServer
}

func (f fakeContainers) Create(ctx context.Context, r *containersapi.CreateContainerRequest) (*containersapi.CreateContainerResponse, error) {
	f.spec = r.Container.Spec.Value
	return &containersapi.CreateContainerResponse{Container: r.Container}, f.record(ctx, "Containers.Create")
}

func (f fakeContainers) Delete(ctx context.Context, _ *containersapi.DeleteContainerRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, f.record(ctx, "Containers.Delete")
}

type tasks struct {
	*fakeDaemon
	tasksapi.UnimplementedTasksServer
}

func (f tasks) Create(ctx context.Context, r *tasksapi.CreateTaskRequest) (*tasksapi.CreateTaskResponse, error) {
	f.create = r
	if err := f.record(ctx, "Tasks.Create"); err != nil {
		return nil, err
	}
	if r.Stdin == "" {
		return &tasksapi.CreateTaskResponse{ContainerID: r.ContainerID}, nil
	}
	go func() {
		in, _ := os.Open(r.Stdin)
		out, _ := os.OpenFile(r.Stdout, os.O_WRONLY, 0)
		<-f.started
		io.Copy(out, in)
		in.Close()
		if r.Stderr != "" {
			errw, _ := os.OpenFile(r.Stderr, os.O_WRONLY, 0)
			errw.WriteString("bye\n")
			errw.Close()
		}
		if f.lose {
			close(f.exited) // and keep stdout open
			return
		}
		out.Close()
		close(f.exited)
	}()
	return &tasksapi.CreateTaskResponse{ContainerID: r.ContainerID}, nil
}

func (f tasks) Start(ctx context.Context, _ *tasksapi.StartRequest) (*tasksapi.StartResponse, error) {
	close(f.started)
	return &tasksapi.StartResponse{}, f.record(ctx, "Tasks.Start")
}

func (f tasks) Wait(ctx context.Context, _ *tasksapi.WaitRequest) (*tasksapi.WaitResponse, error) {
	<-f.exited
	if f.lose {
		time.AfterFunc(100*time.Millisecond, f.stop)
	}
	return &tasksapi.WaitResponse{ExitStatus: 3}, nil // not recorded: it races with Start
}

func (f tasks) CloseIO(ctx context.Context, _ *tasksapi.CloseIORequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil // not recorded: it races with the exit
}

func (f tasks) Get(ctx context.Context, r *tasksapi.GetRequest) (*tasksapi.GetResponse, error) {
	c := f.create
	return &tasksapi.GetResponse{Process: &apitask.Process{ID: r.ContainerID, Stdin: c.Stdin, Stdout: c.Stdout, Stderr: c.Stderr}}, nil
}

func (f tasks) Delete(ctx context.Context, _ *tasksapi.DeleteTaskRequest) (*tasksapi.DeleteResponse, error) {
	return &tasksapi.DeleteResponse{}, f.record(ctx, "Tasks.Delete")
}

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		fail      string
		lose      bool
		wantErr   string
		wantCalls []string
		wantOut   string
		wantStdio string // which FIFOs Tasks.Create names: i, o, e
		wantKept  bool   // the FIFO dir stays
	}{
		{
			name: "foreground --rm", args: []string{"--rm", "c1", "cat"}, wantErr: "exit status 3", wantOut: "in\n", wantStdio: "ioe",
			wantCalls: []string{"Containers.Create", "Tasks.Create", "Tasks.Start", "Tasks.Delete", "Containers.Delete"},
		},
		{
			name: "foreground", args: []string{"c1"}, wantErr: "exit status 3", wantOut: "in\n", wantStdio: "ioe",
			wantCalls: []string{"Containers.Create", "Tasks.Create", "Tasks.Start"},
		},
		{
			name: "terminal without a local one", args: []string{"-t", "c1"}, wantErr: "exit status 3", wantOut: "in\n", wantStdio: "io",
			wantCalls: []string{"Containers.Create", "Tasks.Create", "Tasks.Start"},
		},
		{
			name: "corrald lost with the output open", args: []string{"c1"}, lose: true, wantErr: "exit status 3", wantOut: "in\n", wantStdio: "ioe",
			wantCalls: []string{"Containers.Create", "Tasks.Create", "Tasks.Start"},
		},
		{
			name: "detached", args: []string{"-d", "c1"}, wantStdio: "oe", wantKept: true,
			wantCalls: []string{"Containers.Create", "Tasks.Create", "Tasks.Start"},
		},
		{
			name: "detached with stdin and a terminal", args: []string{"-d", "-it", "c1"}, wantStdio: "io", wantKept: true,
			wantCalls: []string{"Containers.Create", "Tasks.Create", "Tasks.Start"},
		},
		{
			name: "--rm cleans up a failed task", args: []string{"--rm", "c1"}, fail: "Tasks.Create", wantStdio: "ioe",
			wantErr:   "failed precondition",
			wantCalls: []string{"Containers.Create", "Tasks.Create", "Containers.Delete"},
		},
		{
			name: "detached --rm is corrald's to remove", args: []string{"-d", "--rm", "c1"}, wantStdio: "oe", wantKept: true,
			wantCalls: []string{"Containers.Create", "Tasks.Create", "Tasks.Start"},
		},
		{
			name: "detached task fails", args: []string{"-d", "c1"}, fail: "Tasks.Create", wantStdio: "oe",
			wantErr:   "failed precondition",
			wantCalls: []string{"Containers.Create", "Tasks.Create"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "corrald.sock")
			l, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			srv := grpc.NewServer()
			f := &fakeDaemon{fail: tc.fail, lose: tc.lose, stop: srv.Stop, started: make(chan struct{}), exited: make(chan struct{})}
			containersapi.RegisterContainersServer(srv, fakeContainers{fakeDaemon: f})
			tasksapi.RegisterTasksServer(srv, tasks{fakeDaemon: f})
			go srv.Serve(l)
			defer srv.Stop()
			t.Setenv("CORRAL_ADDRESS", sock)
			t.Setenv("CORRAL_NAMESPACE", "ns1")

			var stdout, stderr bytes.Buffer
			fifoDir := t.TempDir()
			cmd := Command()
			cmd.SetArgs(append([]string{"--rootfs", t.TempDir(), "--fifo-dir", fifoDir}, tc.args...))
			cmd.SetIn(strings.NewReader("in\n"))
			cmd.SetOut(&stdout)
			cmd.SetErr(&stderr)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			err = cmd.Execute()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			var exit *commands.ExitError
			if errors.As(err, &exit) && exit.Status != 3 {
				t.Errorf("exit status %d", exit.Status)
			}
			var want []string
			for _, c := range tc.wantCalls {
				want = append(want, "ns1 "+c)
			}
			if !reflect.DeepEqual(f.calls, want) {
				t.Errorf("calls = %q, want %q", f.calls, want)
			}
			wantErrOut := "bye\n"
			if !strings.Contains(tc.wantStdio, "e") {
				wantErrOut = ""
			}
			if tc.wantOut != "" && (stdout.String() != tc.wantOut || stderr.String() != wantErrOut) {
				t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
			}
			if !strings.Contains(string(f.spec), `"hostname":"c1"`) {
				t.Errorf("spec = %s", f.spec)
			}
			r := f.create
			if got := stdio(r.Stdin, "i") + stdio(r.Stdout, "o") + stdio(r.Stderr, "e"); got != tc.wantStdio || r.Terminal != strings.Contains(tc.name, "terminal") {
				t.Errorf("Tasks.Create named FIFOs %q with terminal %t, want %q", got, r.Terminal, tc.wantStdio)
			}
			dirs, _ := filepath.Glob(filepath.Join(fifoDir, "ns1", "c1-*"))
			if len(dirs) != 0 != tc.wantKept {
				t.Errorf("FIFO dirs %q, want them kept: %t", dirs, tc.wantKept)
			}
		})
	}
}

// stdio returns name if path is set.
func stdio(path, name string) string {
	if path == "" {
		return ""
	}
	return name
}
