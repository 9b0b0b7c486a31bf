package run

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

// stdio is the FIFO set of a foreground task in a temporary directory. Its output FIFOs are copied
// to corral's streams from the moment they are opened; stdin is copied once the task has started.
type stdio struct {
	dir                   string
	stdin, stdout, stderr io.ReadWriteCloser
	done                  chan struct{} // closed when stdout and stderr have reached EOF
}

// openStdio creates and opens the FIFOs as containerd's cio does, without blocking for the other
// end, so the runtime can open its ends while the task is created.
func openStdio(ctx context.Context, stdout, stderr io.Writer) (s *stdio, retErr error) {
	dir, err := os.MkdirTemp("", "corral-")
	if err != nil {
		return nil, fmt.Errorf("failed to create fifo dir: %w", err)
	}
	s = &stdio{dir: dir, done: make(chan struct{})}
	defer func() {
		if retErr != nil {
			s.Close()
		}
	}()
	open := func(name string, flag int) (io.ReadWriteCloser, error) {
		f, err := fifo.OpenFifo(ctx, filepath.Join(dir, name), flag|syscall.O_CREAT|syscall.O_NONBLOCK, 0o600)
		if err != nil {
			return nil, fmt.Errorf("failed to open %s fifo: %w", name, err)
		}
		return f, nil
	}
	if s.stdin, err = open("stdin", syscall.O_WRONLY); err != nil {
		return nil, err
	}
	if s.stdout, err = open("stdout", syscall.O_RDONLY); err != nil {
		return nil, err
	}
	if s.stderr, err = open("stderr", syscall.O_RDONLY); err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { io.Copy(stdout, s.stdout); wg.Done() }()
	go func() { io.Copy(stderr, s.stderr); wg.Done() }()
	go func() { wg.Wait(); close(s.done) }()
	return s, nil
}

// paths returns the stdin, stdout and stderr FIFO paths for Tasks.Create.
func (s *stdio) paths() (stdin, stdout, stderr string) {
	return filepath.Join(s.dir, "stdin"), filepath.Join(s.dir, "stdout"), filepath.Join(s.dir, "stderr")
}

// copyStdin copies in to the stdin FIFO in the background; at EOF it closes the FIFO and calls closed.
func (s *stdio) copyStdin(in io.Reader, closed func()) {
	go func() {
		io.Copy(s.stdin, in)
		s.stdin.Close()
		closed()
	}()
}

// drain waits up to timeout for stdout and stderr to reach EOF.
func (s *stdio) drain(timeout time.Duration) {
	select {
	case <-s.done:
	case <-time.After(timeout):
	}
}

// Close closes the FIFOs and removes their directory.
func (s *stdio) Close() {
	for _, f := range []io.Closer{s.stdin, s.stdout, s.stderr} {
		if f != nil {
			f.Close()
		}
	}
	os.RemoveAll(s.dir)
}
