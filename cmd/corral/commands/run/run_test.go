package run

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands/cio"
)

func TestCommandGrammar(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    options
		wantErr string
	}{
		{
			args: []string{"--rm", "--runtime", "runc", "--rootfs", "R", "c1", "sh", "-c", "x"},
			want: options{id: "c1", args: []string{"sh", "-c", "x"}, rootfs: "R", runtime: "runc", rm: true},
		},
		{
			args: []string{"-d", "--env", "A=1", "--env", "B=2,3", "--cwd", "/tmp", "--rootfs=R", "c2"},
			want: options{id: "c2", args: []string{}, rootfs: "R", env: []string{"A=1", "B=2,3"}, cwd: "/tmp", detach: true},
		},
		{
			// Flags after ID belong to the container's command.
			args: []string{"--rootfs", "R", "c3", "ls", "--rm", "-d"},
			want: options{id: "c3", args: []string{"ls", "--rm", "-d"}, rootfs: "R"},
		},
		{
			args: []string{"--rm", "-d", "--rootfs", "R", "c1"},
			want: options{id: "c1", args: []string{}, rootfs: "R", rm: true, detach: true},
		},
		{
			args: []string{"-d", "--restart", "on-failure:3", "--rootfs", "R", "c1"},
			want: options{id: "c1", args: []string{}, rootfs: "R", detach: true, restart: "on-failure:3"},
		},
		{args: []string{"--restart", "always", "--rootfs", "R", "c1"}, wantErr: "--restart needs --detach"},
		{args: []string{"-d", "--rm", "--restart", "always", "--rootfs", "R", "c1"}, wantErr: "cannot be used with --rm"},
		{
			args: []string{"--rm", "--restart", "no", "--rootfs", "R", "c1"},
			want: options{id: "c1", args: []string{}, rootfs: "R", rm: true, restart: "no"},
		},
		{args: []string{"--rootfs", "R"}, wantErr: "missing container ID"},
		{args: []string{"img:1"}, wantErr: "missing IMAGE and container ID"},
		{args: []string{}, wantErr: "missing IMAGE and container ID"},
		{
			args: []string{"--rm", "img:1", "c1"},
			want: options{image: "img:1", id: "c1", args: []string{}, rm: true},
		},
		{
			// Flags after ID, and after the image's ID, belong to the container's command.
			args: []string{"--snapshotter", "native", "-u", "1000:1000", "--read-only", "img:1", "c1", "ls", "-l", "--rm"},
			want: options{image: "img:1", id: "c1", args: []string{"ls", "-l", "--rm"}, snapshotter: "native", user: "1000:1000", readOnly: true},
		},
		{
			args: []string{"--mount", "type=bind,src=/a,dst=/b", "-v", "/c:/d:ro", "--label", "k=v", "--env-file", "E", "--hostname", "h",
				"-m", "64m", "--cpus", "1.5", "--pids-limit", "10", "img:1", "c1"},
			want: options{image: "img:1", id: "c1", args: []string{}, mounts: []string{"type=bind,src=/a,dst=/b"}, volumes: []string{"/c:/d:ro"},
				labels: []string{"k=v"}, envFiles: []string{"E"}, hostname: "h", memory: "64m", cpus: 1.5, pidsLimit: 10},
		},
		{args: []string{"--snapshotter", "native", "--rootfs", "R", "c1"}, wantErr: "--snapshotter is for an image"},
		{args: []string{"--cpus", "many", "img:1", "c1"}, wantErr: `invalid argument "many" for "--cpus" flag`},
		{args: []string{"--pids-limit", "1.5", "img:1", "c1"}, wantErr: `invalid argument "1.5" for "--pids-limit" flag`},
		{
			args: []string{"-it", "--fifo-dir", "F", "--rootfs", "R", "c4", "sh"},
			want: options{id: "c4", args: []string{"sh"}, rootfs: "R", tty: true, interactive: true, fifoDir: "F"},
		},
		{
			args: []string{"-d", "--tty", "--interactive", "--rootfs", "R", "c5"},
			want: options{id: "c5", args: []string{}, rootfs: "R", detach: true, tty: true, interactive: true},
		},
		{
			args: []string{"-d", "--log-driver", "cri", "--log-opt", "max-size=1k", "--rootfs", "R", "c6"},
			want: options{id: "c6", args: []string{}, rootfs: "R", detach: true, logDriver: "cri", logOpts: []string{"max-size=1k"}},
		},
		{args: []string{"--privileged", "--rootfs", "R", "c1"}, wantErr: "unknown flag: --privileged"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var got options
			cmd := newCommand(func(_ *cobra.Command, o options) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
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
			if tc.want.fifoDir == "" {
				tc.want.fifoDir = cio.DefaultRoot()
			}
			if tc.want.logDriver == "" {
				tc.want.logDriver = "json-file"
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("options = %+v, want %+v", got, tc.want)
			}
		})
	}
}
