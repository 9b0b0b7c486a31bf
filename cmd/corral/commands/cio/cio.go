// Package cio holds the FIFO stdio that corral attaches its own streams to a foreground task or exec
// process with, as containerd's cio does for ctr.
package cio

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/fifo"
)

// FIFOs are the stdin, stdout and stderr FIFOs of one process in a temporary directory. The output
// FIFOs are copied to corral's streams from the moment they are opened; stdin is copied once the
// process has started.
type FIFOs struct {
	dir                   string
	stdin, stdout, stderr io.ReadWriteCloser
	done                  chan struct{} // closed when stdout and stderr have reached EOF
}

// Open creates and opens the FIFOs as containerd's cio does, without blocking for the other end, so
// the runtime can open its ends while the process is created. The output FIFOs are copied to stdout
// and stderr.
func Open(ctx context.Context, stdout, stderr io.Writer) (f *FIFOs, retErr error) {
	dir, err := os.MkdirTemp("", "corral-")
	if err != nil {
		return nil, fmt.Errorf("failed to create fifo dir: %w", err)
	}
	f = &FIFOs{dir: dir, done: make(chan struct{})}
	defer func() {
		if retErr != nil {
			f.Close()
		}
	}()
	open := func(name string, flag int) (io.ReadWriteCloser, error) {
		rwc, err := fifo.OpenFifo(ctx, filepath.Join(dir, name), flag|syscall.O_CREAT|syscall.O_NONBLOCK, 0o600)
		if err != nil {
			return nil, fmt.Errorf("failed to open %s fifo: %w", name, err)
		}
		return rwc, nil
	}
	if f.stdin, err = open("stdin", syscall.O_WRONLY); err != nil {
		return nil, err
	}
	if f.stdout, err = open("stdout", syscall.O_RDONLY); err != nil {
		return nil, err
	}
	if f.stderr, err = open("stderr", syscall.O_RDONLY); err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { io.Copy(stdout, f.stdout); wg.Done() }()
	go func() { io.Copy(stderr, f.stderr); wg.Done() }()
	go func() { wg.Wait(); close(f.done) }()
	return f, nil
}

// Paths returns the stdin, stdout and stderr FIFO paths, as Tasks.Create and Tasks.Exec take them.
func (f *FIFOs) Paths() (stdin, stdout, stderr string) {
	return filepath.Join(f.dir, "stdin"), filepath.Join(f.dir, "stdout"), filepath.Join(f.dir, "stderr")
}

// CopyStdin copies in to the stdin FIFO in the background; at EOF it closes the FIFO and calls closed.
func (f *FIFOs) CopyStdin(in io.Reader, closed func()) {
	go func() {
		io.Copy(f.stdin, in)
		f.stdin.Close()
		closed()
	}()
}

// Drain waits up to timeout for stdout and stderr to reach EOF, and reports whether they did.
func (f *FIFOs) Drain(timeout time.Duration) bool {
	select {
	case <-f.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Close closes the FIFOs and removes their directory.
func (f *FIFOs) Close() {
	for _, c := range []io.Closer{f.stdin, f.stdout, f.stderr} {
		if c != nil {
			c.Close()
		}
	}
	os.RemoveAll(f.dir)
}
