package cri

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"

	"github.com/corral-dev/corral/config"
)

func TestStreamServer(t *testing.T) {
	s, err := New(Opts{Config: config.Default(), Resolve: fakeResolve})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.stream.GetExec(&runtimeapi.ExecRequest{ContainerId: "c1", Cmd: []string{"sh"}, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.GetUrl(), "http://127.0.0.1:") || strings.HasPrefix(resp.GetUrl(), "http://127.0.0.1:0/") {
		t.Fatalf("exec URL %q is not on the port bound on 127.0.0.1", resp.GetUrl())
	}
	// A URL whose token was never handed out is not found: the server serves.
	bad := resp.GetUrl()[:strings.LastIndex(resp.GetUrl(), "/")] + "/nope"
	r, err := http.Get(bad)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound {
		t.Fatalf("GET %s: %s, want 404", bad, r.Status)
	}
	for _, req := range []*runtimeapi.ExecRequest{
		{ContainerId: "c1", Cmd: []string{"sh"}},                          // no stream
		{ContainerId: "c1", Cmd: []string{"sh"}, Tty: true, Stderr: true}, // stderr with a terminal
	} {
		if _, err := s.stream.GetExec(req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("GetExec(%v) = %v, want InvalidArgument", req, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err := http.Get(bad); err == nil {
		r.Body.Close()
		t.Fatalf("the streaming server still serves after Close")
	}
}

func TestForward(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server func(c *net.TCPConn) // the pod's side
		in     string               // what the client sends before closing its side
		want   string
	}{
		{name: "reply after the client's half-close", in: "hello", want: "got hello", server: func(c *net.TCPConn) {
			b, _ := io.ReadAll(c)
			c.Write([]byte("got " + string(b)))
		}},
		{name: "the pod speaks first and closes", in: "", want: "banner", server: func(c *net.TCPConn) {
			c.Write([]byte("banner"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				tc.server(c.(*net.TCPConn))
			}()
			conn, err := dialPod(context.Background(), "", int32(ln.Addr().(*net.TCPAddr).Port))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := forward(conn, struct {
				io.Reader
				io.Writer
			}{strings.NewReader(tc.in), &out}); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Fatalf("forwarded %q, want %q", out.String(), tc.want)
			}
		})
	}
}

func TestDialPodRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := int32(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	if _, err := dialPod(context.Background(), "", port); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("dialPod of a closed port = %v, want the error of 127.0.0.1", err)
	}
}

func TestContainerIO(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		runtime, logPath         string
		stdin, tty               bool
		wantIn, wantOut, wantErr bool
	}{
		{name: "keeper, output only", runtime: "runc", wantOut: true, wantErr: true},
		{name: "keeper, stdin and terminal", runtime: "runc", stdin: true, tty: true, wantIn: true, wantOut: true},
		{name: "keeper without log", runtime: "lcr", stdin: true, wantIn: true, wantOut: true, wantErr: true},
		{name: "shim v2 with log", runtime: "io.containerd.runc.v2", logPath: "/l", wantOut: true, wantErr: true},
		{name: "shim v2 without log", runtime: "io.containerd.runc.v2"},
		{name: "shim v2 with stdin", runtime: "io.containerd.runc.v2", logPath: "/l", stdin: true},
		{name: "shim v2 with terminal", runtime: "io.containerd.runc.v2", logPath: "/l", tty: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Service{dir: t.TempDir()}
			c := &ctr{id: "c1", runtime: tc.runtime, logPath: tc.logPath, cfg: &runtimeapi.ContainerConfig{Stdin: tc.stdin, Tty: tc.tty}}
			creator, err := s.containerIO(c)
			if err != nil {
				t.Fatal(err)
			}
			io, err := creator("c1")
			if err != nil {
				t.Fatal(err)
			}
			cfg := io.Config()
			if cfg.Terminal != (tc.tty && tc.wantOut) {
				t.Errorf("terminal %v", cfg.Terminal)
			}
			for _, f := range []struct {
				path string
				want bool
				name string
			}{{cfg.Stdin, tc.wantIn, "stdin"}, {cfg.Stdout, tc.wantOut, "stdout"}, {cfg.Stderr, tc.wantErr, "stderr"}} {
				if (f.path != "") != f.want {
					t.Errorf("%s = %q, want one: %v", f.name, f.path, f.want)
					continue
				}
				if f.path == "" {
					continue
				}
				if f.path != filepath.Join(s.dir, "containers", "c1", "io", f.name) {
					t.Errorf("%s is %s", f.name, f.path)
				}
				if fi, err := os.Stat(f.path); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
					t.Errorf("%s is not a FIFO: %v", f.path, err)
				}
			}
			if _, err := s.containerIO(c); err != nil {
				t.Fatalf("again, with the FIFOs there: %v", err)
			}
		})
	}
}

func TestDiscardBuffered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(path, os.O_RDWR, 0) // as the keeper holds it
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Write([]byte("before the attach"))
	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	discardBuffered(r)
	discardBuffered(r) // nothing buffered: returns at once
	w.Write([]byte("after"))
	b := make([]byte, 64)
	n, err := r.Read(b)
	if err != nil || string(b[:n]) != "after" {
		t.Fatalf("read %q, %v; want %q", b[:n], err, "after")
	}
}

func TestResizeFrom(t *testing.T) {
	ch := make(chan remotecommand.TerminalSize, 3)
	ch <- remotecommand.TerminalSize{Width: 80, Height: 24}
	ch <- remotecommand.TerminalSize{Width: 0, Height: 10} // not a size: skipped
	ch <- remotecommand.TerminalSize{Width: 100, Height: 40}
	close(ch)
	var got []string
	resizeFrom(context.Background(), ch, func(_ context.Context, w, h uint32) error {
		got = append(got, fmt.Sprintf("%dx%d", w, h))
		return nil
	})
	if strings.Join(got, " ") != "80x24 100x40" {
		t.Fatalf("resized to %v", got)
	}
}
