package shim_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	task "github.com/containerd/containerd/api/runtime/task/v2"
	"github.com/containerd/errdefs/pkg/errgrpc"

	"github.com/corral-dev/corral/api/keeper"
)

// TestStdioOutlivesCreate: the keeper's copy of the init's output to a FIFO does not depend on the
// Create request, which ttrpc cancels once answered. The client here opens its reader only after
// Create returned, so the keeper's open of the FIFO is still pending then.
func TestStdioOutlivesCreate(t *testing.T) {
	s := startShim(t, "c4", nil)
	bin, _ := fakeRuntime(t, `echo hello; (sleep 0.2; exit 0) </dev/null >/dev/null 2>&1 & printf %s $! >"$pidfile"`, "exit 0")
	stdout := filepath.Join(t.TempDir(), "stdout")
	if err := syscall.Mkfifo(stdout, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := (&keeper.Options{Driver: keeper.DriverRunc, Binary: bin}).Any()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.task.Create(ctx, &task.CreateTaskRequest{ID: s.id, Bundle: s.bundle, Stdout: stdout, Options: a}); err != nil {
		t.Fatal(errgrpc.ToNative(err))
	}
	time.Sleep(50 * time.Millisecond) // the request's context is canceled by now
	opened := make(chan *os.File, 1)
	go func() {
		if f, err := os.OpenFile(stdout, os.O_RDONLY, 0); err == nil {
			opened <- f
		}
	}()
	var f *os.File
	select {
	case f = <-opened:
	case <-time.After(10 * time.Second):
		// Unblock the pending open before failing.
		if w, err := os.OpenFile(stdout, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatal("the keeper never opened the stdout FIFO: its copy ended with the Create request")
	}
	defer f.Close()
	must(s.task.Start(ctx, &task.StartRequest{ID: s.id}))
	s.wait(t, "")
	out, err := io.ReadAll(f)
	if err != nil || string(out) != "hello\n" {
		t.Fatalf("stdout = %q, %v; want %q", out, err, "hello\n")
	}
	s.shutdown(t)
}
