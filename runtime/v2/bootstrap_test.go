package v2

import (
	"context"
	"debug/buildinfo"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"syscall"
	"testing"
	"time"

	bootapi "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	"github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/runtime"
)

func marshal(t *testing.T, m proto.Message) string {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseStartAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, out, address string
		version            int
		err                error // class; nil means success
	}{
		{name: "1.6 plain", out: "unix:///run/containerd/s/abc", address: "unix:///run/containerd/s/abc", version: 2},
		{name: "abstract", out: "/containerd-shim/ns/c1/shim.sock\n", address: "/containerd-shim/ns/c1/shim.sock", version: 2},
		{name: "2.2 json v3", out: `{"version":3,"address":"unix:///s/y","protocol":"ttrpc"}` + "\n", address: "unix:///s/y", version: 3},
		{name: "1.7 json v2", out: `{"version":2,"address":"unix:///s/x"}`, address: "unix:///s/x", version: 2},
		{name: "json grpc", out: `{"version":3,"address":"unix:///s/y","protocol":"grpc"}`, err: errdefs.ErrNotImplemented},
		{name: "json v1", out: `{"version":1,"address":"unix:///s/y"}`, err: errdefs.ErrUnknown},
		{name: "json v4", out: `{"version":4,"address":"unix:///s/y","protocol":"ttrpc"}`, err: errdefs.ErrNotImplemented},
		{name: "json no address", out: `{"version":3,"protocol":"ttrpc"}`, err: errdefs.ErrUnknown},
		{name: "2.3 proto", out: marshal(t, &bootapi.BootstrapResult{Version: 3, Address: "unix:///s/z", Protocol: "ttrpc"}),
			address: "unix:///s/z", version: 3},
		{name: "proto v2 with metadata", out: marshal(t, &bootapi.BootstrapResult{Version: 2, Address: "unix:///s/z", Protocol: "ttrpc",
			Metadata: map[string]string{"k": "v"}}), address: "unix:///s/z", version: 2},
		{name: "proto grpc", out: marshal(t, &bootapi.BootstrapResult{Version: 3, Address: "unix:///s/z", Protocol: "grpc"}),
			err: errdefs.ErrNotImplemented},
		{name: "proto vsock", out: marshal(t, &bootapi.BootstrapResult{Version: 7, Address: "vsock://3:1024", Protocol: "ttrpc"}),
			err: errdefs.ErrNotImplemented},
		{name: "truncated json", out: `{"version":`, err: errdefs.ErrUnknown},
		{name: "blank", out: "  \n", err: errdefs.ErrUnknown},
		{name: "empty", out: "", err: errdefs.ErrUnknown},
		{name: "garbage", out: "this is not an address", err: errdefs.ErrUnknown},
		{name: "binary garbage", out: "\x00\xff\x13garbage", err: errdefs.ErrUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			address, version, err := parseStart([]byte(tc.out))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("parseStart(%q) = %q, %d, %v; want %v", tc.out, address, version, err, tc.err)
				}
				return
			}
			if err != nil || address != tc.address || version != tc.version {
				t.Fatalf("parseStart(%q) = %q, %d, %v; want %q, %d", tc.out, address, version, err, tc.address, tc.version)
			}
		})
	}
}

func TestBuiltOnContainerd1(t *testing.T) {
	mod := func(path string) *debug.Module { return &debug.Module{Path: path, Version: "v1.0.0"} }
	for _, tc := range []struct {
		name string
		bi   buildinfo.BuildInfo
		want bool
	}{
		{"debian 1.6 (GOPATH)", buildinfo.BuildInfo{Path: "github.com/containerd/containerd/cmd/containerd-shim-runc-v2"}, true},
		{"1.7 module", buildinfo.BuildInfo{Path: "github.com/containerd/containerd/cmd/containerd-shim-runc-v2",
			Main: debug.Module{Path: containerd1}}, true},
		{"shim linking 1.x", buildinfo.BuildInfo{Path: "example.com/shim", Main: *mod("example.com/shim"),
			Deps: []*debug.Module{mod(containerd1), mod("github.com/containerd/ttrpc")}}, true},
		{"2.x release", buildinfo.BuildInfo{Path: "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2",
			Main: debug.Module{Path: containerd2}}, false},
		{"2.x built from a module", buildinfo.BuildInfo{Path: "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2",
			Main: *mod("shimbuild"), Deps: []*debug.Module{mod(containerd2), mod("github.com/containerd/containerd/api")}}, false},
		{"links both", buildinfo.BuildInfo{Path: "example.com/shim", Deps: []*debug.Module{mod(containerd1), mod(containerd2)}}, false},
		{"unrelated", buildinfo.BuildInfo{Path: "gvisor.dev/gvisor/shim", Deps: []*debug.Module{mod("github.com/containerd/containerd/api")}}, false},
	} {
		if got := builtOnContainerd1(&tc.bi); got != tc.want {
			t.Errorf("%s: builtOnContainerd1 = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStartInput(t *testing.T) {
	opts, err := anypb.New(&options.Options{BinaryName: "runc", Root: "/run/x"})
	if err != nil {
		t.Fatal(err)
	}
	opts.TypeUrl = "containerd.runc.v1.Options" // bare, as ctr sends it
	dir := t.TempDir()
	script := filepath.Join(dir, "containerd-shim-wrapped-v2")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable() // a Go binary linking no containerd module
	if err != nil {
		t.Fatal(err)
	}
	r := New(Opts{GRPCAddress: "/run/c.sock", EventsDir: "/run/e", Self: "/usr/bin/corrald"})
	for _, tc := range []struct {
		name, binary string
		opts         *anypb.Any
		legacy       bool
	}{
		{"runc-v1 name", filepath.Join(dir, "containerd-shim-runc-v1"), opts, true},
		{"runhcs-v1 name, no options", "containerd-shim-runhcs-v1", nil, true},
		{"not a Go binary", script, opts, false},
		{"missing binary", filepath.Join(dir, "containerd-shim-gone-v2"), nil, false},
		{"Go binary", self, opts, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := runtime.Task{ID: "c1", Namespace: "ns1", Runtime: runtime.Binary{Path: tc.binary}}
			in, err := r.startInput(task, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.legacy {
				if tc.opts == nil {
					if len(in) != 0 {
						t.Fatalf("stdin %q, want nothing", in)
					}
					return
				}
				var got anypb.Any
				if err := proto.Unmarshal(in, &got); err != nil || !proto.Equal(&got, tc.opts) {
					t.Fatalf("stdin is not the options Any: %v", err)
				}
				return
			}
			var p bootapi.BootstrapParams
			if err := proto.Unmarshal(in, &p); err != nil {
				t.Fatal(err)
			}
			if p.InstanceID != "c1" || p.Namespace != "ns1" || p.ContainerdGrpcAddress != "/run/c.sock" ||
				p.ContainerdTtrpcAddress != r.eventsPath(task) || p.ContainerdBinary != "/usr/bin/corrald" || p.SocketDir != nil {
				t.Errorf("params = %v", &p)
			}
			var o options.Options
			found, err := p.FindExtension(&o)
			if err != nil || found != (tc.opts != nil) || (found && (o.BinaryName != "runc" || o.Root != "/run/x")) {
				t.Errorf("runtime options extension: found %v, %v, %v", found, &o, err)
			}
		})
	}
}

// TestAbandon starts two fake shims the way a start helper leaves them (in the bundle, listening on a
// socket) and checks abandon kills the task's one, removes its socket and spares the other id's.
func TestAbandon(t *testing.T) {
	bundle, sockets := t.TempDir(), t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	start := func(id string) *exec.Cmd {
		cmd := exec.Command(self, "-test.run=^TestFakeShim$", "--", "-namespace", "ns1", "-id", id)
		cmd.Dir = bundle
		cmd.Env = append(os.Environ(), "CORRAL_FAKE_SHIM_SOCKET="+filepath.Join(sockets, id))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		waitFor(t, filepath.Join(sockets, id))
		return cmd
	}
	victim, other := start("c1"), start("c2")
	reaped := make(chan struct{})
	go func() { _, _ = victim.Process.Wait(); close(reaped) }() // as init would
	task := runtime.Task{ID: "c1", Namespace: "ns1", Bundle: bundle, Runtime: runtime.Binary{Path: "/bin/false"}}
	if pids := shimPids(task); !slices.Equal(pids, []int{victim.Process.Pid}) {
		t.Fatalf("shimPids = %v, want [%d]", pids, victim.Process.Pid)
	}
	// /bin/false stands for a delete subcommand that fails, as it does for a container never created.
	cause := errors.New("bad answer")
	if err := New(Opts{CleanupTimeout: 5 * time.Second}).abandon(context.Background(), task, cause); err.Error() != cause.Error() {
		t.Fatalf("abandon = %v, want just the cause", err)
	}
	select {
	case <-reaped:
	case <-time.After(5 * time.Second):
		t.Fatal("the shim survived abandon")
	}
	if _, err := os.Stat(filepath.Join(sockets, "c1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket of the killed shim left: %v", err)
	}
	if err := syscall.Kill(other.Process.Pid, 0); err != nil {
		t.Errorf("the shim of another id was killed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(sockets, "c2")); err != nil {
		t.Errorf("socket of the other shim removed: %v", err)
	}
}

func waitFor(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear", path)
		}
	}
}

// TestFakeShim is the shim process of TestAbandon: it listens and waits to be killed.
func TestFakeShim(t *testing.T) {
	path := os.Getenv("CORRAL_FAKE_SHIM_SOCKET")
	if path == "" {
		t.Skip("helper process of TestAbandon")
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	time.Sleep(time.Minute)
}
