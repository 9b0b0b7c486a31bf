package commands

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"google.golang.org/grpc"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/shim/logs"
)

// logContainers serves containers "c1", logged to path, and "attached", which has no log.
type logContainers struct {
	containersapi.UnimplementedContainersServer
	path string
}

func (f logContainers) Get(_ context.Context, r *containersapi.GetContainerRequest) (*containersapi.GetContainerResponse, error) {
	labels, ok := map[string]map[string]string{"attached": nil, "c1": {api.LabelLogPath: f.path}}[r.ID]
	if !ok {
		return nil, errgrpc.ToGRPC(errdefs.ErrNotFound)
	}
	return &containersapi.GetContainerResponse{Container: &containersapi.Container{ID: r.ID, Labels: labels}}, nil
}

// logTasks plays a task that exits when exited is closed.
type logTasks struct {
	tasksapi.UnimplementedTasksServer
	exited chan struct{}
}

func (f logTasks) Wait(ctx context.Context, _ *tasksapi.WaitRequest) (*tasksapi.WaitResponse, error) {
	select {
	case <-f.exited:
		return &tasksapi.WaitResponse{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestLogs(t *testing.T) {
	const ts = `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z `
	long := strings.Repeat("x", logs.MaxLineSize+1) // two records, one line
	for _, tc := range []struct {
		name                string
		args                []string
		last                string // written to stdout after "one\ntwo\n" and "err\n"
		late                bool   // last is written after the command starts, then the task exits
		wantOut, wantErrOut string // regular expressions
		wantErr             string
	}{
		{name: "all", args: []string{"c1"}, last: "par", wantOut: "one\ntwo\npar", wantErrOut: "err\n"},
		{name: "tail", args: []string{"--tail", "2", "c1"}, last: "par", wantOut: "par", wantErrOut: "err\n"},
		{name: "since duration", args: []string{"--since", "1h", "c1"}, wantOut: "one\ntwo\n", wantErrOut: "err\n"},
		{name: "since time", args: []string{"--since", "2999-01-01T00:00:00Z", "c1"}},
		{name: "timestamps", args: []string{"-t", "c1"}, last: long + "\n", wantOut: ts + "one\n" + ts + "two\n" + ts + long + "\n", wantErrOut: ts + "err\n"},
		{name: "follow", args: []string{"-f", "--tail", "1", "c1"}, last: "late\n", late: true, wantOut: "late\n", wantErrOut: "err\n"},
		{name: "not found", args: []string{"c2"}, wantErr: "failed to get container c2: not found"},
		{name: "no log", args: []string{"attached"}, wantErr: "container attached has no log: it was started attached or with logs disabled"},
		{name: "bad since", args: []string{"--since", "yesterday", "c1"}, wantErr: `invalid --since "yesterday"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, exited := filepath.Join(dir, "c1.log"), make(chan struct{})
			w, err := logs.NewWriter(path, keeper.DefaultLog())
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			out, errOut := w.Stream(logs.Stdout), w.Stream(logs.Stderr)
			out.Write([]byte("one\ntwo\n"))
			errOut.Write([]byte("err\n"))
			if !tc.late {
				out.Write([]byte(tc.last))
				out.Close()
			}
			sock := filepath.Join(dir, "corrald.sock")
			l, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			srv := grpc.NewServer()
			containersapi.RegisterContainersServer(srv, logContainers{path: path})
			tasksapi.RegisterTasksServer(srv, logTasks{exited: exited})
			go srv.Serve(l)
			defer srv.Stop()
			t.Setenv("CORRAL_ADDRESS", sock)

			var stdout, stderr bytes.Buffer
			cmd := LogsCommand()
			cmd.SetArgs(tc.args)
			cmd.SetOut(&stdout)
			cmd.SetErr(&stderr)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			errc := make(chan error, 1)
			go func() { errc <- cmd.Execute() }()
			if tc.late {
				time.Sleep(100 * time.Millisecond)
				out.Write([]byte(tc.last))
			}
			close(exited)
			err = <-errc
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if !regexp.MustCompile(`^`+tc.wantOut+`$`).MatchString(stdout.String()) || !regexp.MustCompile(`^`+tc.wantErrOut+`$`).MatchString(stderr.String()) {
				t.Errorf("stdout %.200q, stderr %q; want %.200q, %q", stdout.String(), stderr.String(), tc.wantOut, tc.wantErrOut)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Time{}, true},
		{"10m", now.Add(-10 * time.Minute), true},
		{"0s", now, true},
		{"2024-01-01T00:00:00Z", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"2024-01-01T01:00:00.5+01:00", time.Date(2024, 1, 1, 0, 0, 0, 5e8, time.UTC), true},
		{"-10m", time.Time{}, false},
		{"2024-01-01", time.Time{}, false},
		{"soon", time.Time{}, false},
	} {
		got, err := parseSince(tc.in, now)
		if tc.ok != (err == nil) || !got.Equal(tc.want) || !tc.ok && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("parseSince(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
