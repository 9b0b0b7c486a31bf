package shim

import (
	"context"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/fifo"
	runc "github.com/containerd/go-runc"
	"github.com/containerd/log"
)

// stdio copies between the container's pipes and the client's FIFOs.
type stdio struct {
	rio    runc.IO
	wg     sync.WaitGroup
	cancel context.CancelFunc
	stdin  sync.Once // closes the container's stdin pipe

	// The keeper holds a writer of its own on the stdin FIFO, so the copy reaches EOF only once the
	// client asked to close stdin and has closed its end: nothing it wrote is lost.
	mu        sync.Mutex
	holder    io.Closer
	closeAsks bool
}

// newStdio makes the container's stdio: /dev/null when no FIFO is named, else pipes owned by
// uid:gid whose ends are copied to and from the FIFOs.
func newStdio(ctx context.Context, stdin, stdout, stderr string, uid, gid int) (*stdio, error) {
	if stdin == "" && stdout == "" && stderr == "" {
		nio, err := runc.NewNullIO()
		return &stdio{rio: nio, cancel: func() {}}, err
	}
	pio, err := runc.NewPipeIO(uid, gid)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &stdio{rio: pio, cancel: cancel}
	s.copyOut(ctx, stdout, pio.Stdout())
	s.copyOut(ctx, stderr, pio.Stderr())
	if stdin == "" {
		s.closePipe()
	} else {
		go s.copyIn(ctx, stdin, pio.Stdin())
	}
	return s, nil
}

func (s *stdio) copyIn(ctx context.Context, path string, w io.Writer) {
	defer s.closePipe()
	f, err := fifo.OpenFifo(ctx, path, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		log.G(ctx).WithError(err).Warn("failed to open stdin fifo")
		return
	}
	defer f.Close()
	holder, err := fifo.OpenFifo(ctx, path, syscall.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err == nil {
		s.mu.Lock()
		if s.closeAsks {
			holder.Close()
		} else {
			s.holder = holder
		}
		s.mu.Unlock()
	}
	_, _ = io.Copy(w, f)
}

// closeStdin answers the client's request to close stdin: the copy drains what the client wrote,
// then closes the container's stdin.
func (s *stdio) closeStdin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeAsks = true
	if s.holder != nil {
		s.holder.Close()
		s.holder = nil
	}
}

func (s *stdio) closePipe() {
	s.stdin.Do(func() {
		if w := s.rio.Stdin(); w != nil {
			w.Close()
		}
	})
}

func (s *stdio) copyOut(ctx context.Context, path string, r io.Reader) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var w io.Writer = io.Discard
		if path != "" {
			f, err := fifo.OpenFifo(ctx, path, syscall.O_WRONLY, 0)
			if err != nil {
				log.G(ctx).WithError(err).WithField("fifo", path).Warn("failed to open output fifo")
			} else {
				defer f.Close()
				w = f
			}
		}
		// Keep draining the pipe after a write error so the container never blocks on it.
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 && w != io.Discard {
				if _, werr := w.Write(buf[:n]); werr != nil {
					w = io.Discard
				}
			}
			if err != nil {
				return
			}
		}
	}()
}

// drain waits up to d for the output copies to reach EOF, then closes everything.
func (s *stdio) drain(d time.Duration) {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
	s.closeStdin()
	s.cancel()
	s.rio.Close()
}
