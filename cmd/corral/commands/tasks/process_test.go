package tasks

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func TestExecProcess(t *testing.T) {
	const specURL = "types.containerd.io/opencontainers/runtime-spec/1/Spec"
	caps := &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}}
	container := &anypb.Any{TypeUrl: specURL, Value: []byte(`{"process":{"terminal":true,"consoleSize":{"height":1,"width":2},
		"user":{"uid":1000,"gid":100},"args":["init"],"env":["PATH=/bin","HOME=/home/u","A=0"],"cwd":"/home/u",
		"capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"]},"noNewPrivileges":true,
		"rlimits":[{"type":"RLIMIT_NOFILE","hard":64,"soft":64}]}}`)}
	for _, tc := range []struct {
		name    string
		o       execOptions
		spec    *anypb.Any
		want    specs.Process
		wantErr string
	}{
		{
			name: "no spec", o: execOptions{id: "c1", args: []string{"true"}},
			want: specs.Process{Args: []string{"true"}, Env: []string{commands.DefaultPath}, Cwd: "/"},
		},
		{
			name: "spec without process", o: execOptions{id: "c1", args: []string{"true"}, env: []string{"A=1"}, cwd: "/tmp"},
			spec: &anypb.Any{TypeUrl: specURL, Value: []byte(`{"hostname":"c1"}`)},
			want: specs.Process{Args: []string{"true"}, Env: []string{commands.DefaultPath, "A=1"}, Cwd: "/tmp"},
		},
		{
			name: "inherits the container's process", o: execOptions{id: "c1", args: []string{"sh", "-c", "pwd"}}, spec: container,
			want: specs.Process{
				User: specs.User{UID: 1000, GID: 100}, Args: []string{"sh", "-c", "pwd"}, Env: []string{"PATH=/bin", "HOME=/home/u", "A=0"},
				Cwd: "/home/u", Capabilities: caps, NoNewPrivileges: true, Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 64, Soft: 64}},
			},
		},
		{
			name: "flags override", o: execOptions{id: "c1", args: []string{"env"}, env: []string{"A=1", "B=2", "PATH=/sbin"}, cwd: "/tmp"}, spec: container,
			want: specs.Process{
				User: specs.User{UID: 1000, GID: 100}, Args: []string{"env"}, Env: []string{"PATH=/sbin", "HOME=/home/u", "A=1", "B=2"},
				Cwd: "/tmp", Capabilities: caps, NoNewPrivileges: true, Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 64, Soft: 64}},
			},
		},
		{
			name: "container without cwd", o: execOptions{id: "c1", args: []string{"true"}},
			spec: &anypb.Any{TypeUrl: specURL, Value: []byte(`{"process":{"args":["init"],"env":["X=1"]}}`)},
			want: specs.Process{Args: []string{"true"}, Env: []string{commands.DefaultPath, "X=1"}, Cwd: "/"},
		},
		{name: "bad env", o: execOptions{id: "c1", args: []string{"true"}, env: []string{"A"}}, wantErr: `invalid --env "A"`},
		{name: "relative cwd", o: execOptions{id: "c1", args: []string{"true"}, cwd: "tmp"}, wantErr: `invalid --cwd "tmp"`},
		{
			name: "spec not JSON", o: execOptions{id: "c1", args: []string{"true"}},
			spec: &anypb.Any{TypeUrl: "x", Value: []byte{0x0a, 0x01}}, wantErr: "spec of container c1 is not an OCI spec",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := execProcess(tc.o, tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*p, tc.want) {
				t.Errorf("process =\n%+v\nwant\n%+v", *p, tc.want)
			}
		})
	}
}
