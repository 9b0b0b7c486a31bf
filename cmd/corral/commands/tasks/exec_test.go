package tasks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/corral-dev/corral/cmd/corral/commands"
	"github.com/corral-dev/corral/cmd/corral/commands/cio"
)

func TestExecFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    execOptions // execID "" means a random one
		wantErr string
	}{
		{name: "plain", args: []string{"c1", "sh", "-c", "exit 5"}, want: execOptions{id: "c1", args: []string{"sh", "-c", "exit 5"}}},
		{
			name: "ctr grammar", args: []string{"--exec-id", "e1", "c1", "ls", "-l"},
			want: execOptions{id: "c1", execID: "e1", args: []string{"ls", "-l"}},
		},
		{
			name: "all flags", args: []string{"-d", "--env", "A=1", "--env", "B=2", "--cwd", "/tmp", "c1", "true"},
			want: execOptions{id: "c1", args: []string{"true"}, env: []string{"A=1", "B=2"}, cwd: "/tmp", detach: true},
		},
		{
			name: "flags after CONTAINER belong to the command", args: []string{"c1", "env", "--env", "A=1", "-d"},
			want: execOptions{id: "c1", args: []string{"env", "--env", "A=1", "-d"}},
		},
		{name: "no command", args: []string{"c1"}, wantErr: "missing command"},
		{name: "no container", args: []string{}, wantErr: "missing container ID"},
		{
			name: "terminal", args: []string{"-it", "--fifo-dir", "F", "c1", "sh"},
			want: execOptions{id: "c1", args: []string{"sh"}, tty: true, interactive: true, fifoDir: "F"},
		},
		{name: "detached terminal", args: []string{"-d", "-t", "c1", "sh"}, wantErr: "--detach cannot be used with --tty"},
		{name: "detached stdin", args: []string{"-d", "-i", "c1", "sh"}, wantErr: "--detach cannot be used with --tty or --interactive"},
		{name: "unknown flag", args: []string{"--privileged", "c1", "sh"}, wantErr: "unknown flag: --privileged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got execOptions
			cmd := newExecCommand(func(_ *cobra.Command, o execOptions) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.execID == "" {
				if !regexp.MustCompile(`^exec-[0-9a-f]{8}$`).MatchString(got.execID) {
					t.Errorf("default exec id %q, want exec-<8 hex>", got.execID)
				}
				tc.want.execID = got.execID
			}
			if tc.want.fifoDir == "" {
				tc.want.fifoDir = cio.DefaultRoot()
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("options = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// fakeTasks plays corrald for one exec: Start writes to the exec's output FIFOs and makes it exit
// with status 5. Calls are recorded as "method", and fail makes one method fail.
type fakeTasks struct {
	tasksapi.UnimplementedTasksServer
	mu      sync.Mutex
	calls   []string
	fail    string
	exec    *tasksapi.ExecProcessRequest
	process specs.Process
	exited  chan struct{}
}

func (f *fakeTasks) record(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, method)
	if method == f.fail {
		return errgrpc.ToGRPC(errdefs.ErrFailedPrecondition)
	}
	return nil
}

// fakeContainers serves the container whose spec the exec inherits from.
type fakeContainers struct {
	*fakeTasks
	containersapi.UnimplementedContainersServer
}

func (f fakeContainers) Get(_ context.Context, r *containersapi.GetContainerRequest) (*containersapi.GetContainerResponse, error) {
	spec := &anypb.Any{TypeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec",
		Value: []byte(`{"process":{"user":{"uid":7,"gid":7},"args":["init"],"env":["PATH=/bin","A=0"],"cwd":"/srv"}}`)}
	return &containersapi.GetContainerResponse{Container: &containersapi.Container{ID: r.ID, Spec: spec}}, f.record("Containers.Get")
}

func (f *fakeTasks) Exec(_ context.Context, r *tasksapi.ExecProcessRequest) (*emptypb.Empty, error) {
	f.exec = r
	if err := json.Unmarshal(r.Spec.Value, &f.process); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, f.record("Tasks.Exec")
}

func (f *fakeTasks) Start(_ context.Context, r *tasksapi.StartRequest) (*tasksapi.StartResponse, error) {
	if err := f.record("Tasks.Start"); err != nil {
		return nil, err
	}
	if r.ExecID != f.exec.ExecID {
		return nil, errgrpc.ToGRPC(errdefs.ErrNotFound)
	}
	go func() {
		for path, text := range map[string]string{f.exec.Stdout: "out\n", f.exec.Stderr: "err\n"} {
			if path != "" {
				w, _ := os.OpenFile(path, os.O_WRONLY, 0)
				w.WriteString(text)
				w.Close()
			}
		}
		close(f.exited)
	}()
	return &tasksapi.StartResponse{Pid: 42}, nil
}

func (f *fakeTasks) Wait(ctx context.Context, r *tasksapi.WaitRequest) (*tasksapi.WaitResponse, error) {
	select { // not recorded: it races with Start
	case <-f.exited:
		return &tasksapi.WaitResponse{ExitStatus: 5}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *fakeTasks) CloseIO(context.Context, *tasksapi.CloseIORequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil // not recorded: it races with the exit
}

func (f *fakeTasks) DeleteProcess(_ context.Context, r *tasksapi.DeleteProcessRequest) (*tasksapi.DeleteResponse, error) {
	return &tasksapi.DeleteResponse{ID: r.ExecID}, f.record("Tasks.DeleteProcess")
}

func TestExec(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		fail      string
		wantErr   string
		wantCalls []string
		wantOut   bool
	}{
		{
			name: "foreground", args: []string{"--exec-id", "e1", "--env", "A=1", "c1", "sh"}, wantErr: "exit status 5", wantOut: true,
			wantCalls: []string{"Containers.Get", "Tasks.Exec", "Tasks.Start", "Tasks.DeleteProcess"},
		},
		{
			name: "terminal", args: []string{"-t", "--exec-id", "e1", "--env", "A=1", "c1", "sh"}, wantErr: "exit status 5", wantOut: true,
			wantCalls: []string{"Containers.Get", "Tasks.Exec", "Tasks.Start", "Tasks.DeleteProcess"},
		},
		{
			name: "detached keeps the exec", args: []string{"-d", "--exec-id", "e1", "--env", "A=1", "c1", "sh"},
			wantCalls: []string{"Containers.Get", "Tasks.Exec", "Tasks.Start"},
		},
		{
			name: "foreground start fails", args: []string{"--exec-id", "e1", "--env", "A=1", "c1", "sh"}, fail: "Tasks.Start",
			wantErr:   "failed precondition",
			wantCalls: []string{"Containers.Get", "Tasks.Exec", "Tasks.Start", "Tasks.DeleteProcess"},
		},
		{
			name: "detached start fails", args: []string{"-d", "--exec-id", "e1", "--env", "A=1", "c1", "sh"}, fail: "Tasks.Start",
			wantErr:   "failed precondition",
			wantCalls: []string{"Containers.Get", "Tasks.Exec", "Tasks.Start", "Tasks.DeleteProcess"},
		},
		{
			name: "exec fails", args: []string{"--exec-id", "e1", "--env", "A=1", "c1", "sh"}, fail: "Tasks.Exec",
			wantErr:   "failed precondition",
			wantCalls: []string{"Containers.Get", "Tasks.Exec"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "corrald.sock")
			l, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			f := &fakeTasks{fail: tc.fail, exited: make(chan struct{})}
			srv := grpc.NewServer()
			containersapi.RegisterContainersServer(srv, fakeContainers{fakeTasks: f})
			tasksapi.RegisterTasksServer(srv, f)
			go srv.Serve(l)
			defer srv.Stop()
			t.Setenv("CORRAL_ADDRESS", sock)

			var stdout, stderr bytes.Buffer
			fifoDir := t.TempDir()
			cmd := execCommand()
			cmd.SetArgs(append([]string{"--fifo-dir", fifoDir}, tc.args...))
			cmd.SetIn(strings.NewReader(""))
			cmd.SetOut(&stdout)
			cmd.SetErr(&stderr)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			err = cmd.Execute()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			var exit *commands.ExitError
			if errors.As(err, &exit) && exit.Status != 5 {
				t.Errorf("exit status %d", exit.Status)
			}
			if !reflect.DeepEqual(f.calls, tc.wantCalls) {
				t.Errorf("calls = %q, want %q", f.calls, tc.wantCalls)
			}
			terminal := tc.name == "terminal"
			wantErrOut := "err\n"
			if terminal {
				wantErrOut = ""
			}
			if tc.wantOut && (stdout.String() != "out\n" || stderr.String() != wantErrOut) {
				t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
			}
			r := f.exec
			if r.ContainerID != "c1" || r.ExecID != "e1" || r.Spec.TypeUrl != processTypeURL || (r.Stdout == "") == !strings.Contains(tc.name, "detached") ||
				r.Terminal != terminal || f.process.Terminal != terminal || (r.Stderr == "") != (terminal || strings.Contains(tc.name, "detached")) {
				t.Errorf("exec request %v", r)
			}
			if dirs, _ := filepath.Glob(filepath.Join(fifoDir, "*", "*")); len(dirs) != 0 {
				t.Errorf("FIFO dirs left: %q", dirs)
			}
			p := f.process
			if !reflect.DeepEqual(p.Args, []string{"sh"}) || !reflect.DeepEqual(p.Env, []string{"PATH=/bin", "A=1"}) || p.Cwd != "/srv" || p.User.UID != 7 {
				t.Errorf("process %+v", p)
			}
		})
	}
}
