package shim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/console"
	"github.com/containerd/errdefs"
	"github.com/containerd/fifo"
	runc "github.com/containerd/go-runc"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/shim/logs"
)

// stdio is a process's stdio as the keeper holds it: the container's ends (pipes, or a terminal
// whose master the keeper keeps), and the copies between them and the client's FIFOs, files or log.
// The copies survive a client that goes away: the keeper holds the FIFOs open itself, so a client
// that comes back (attach) reads the output from then on and writes to stdin.
type stdio struct {
	rio      runc.IO // the pipes; nil with a terminal
	terminal bool
	console  console.Console // the terminal's master, once the runtime has handed it over
	size     *specs.Box      // the terminal's size at start (process.consoleSize)

	ctx            context.Context
	cancel         context.CancelFunc
	log            *logs.Writer // the container's log, if it keeps one
	stdin          string
	stdout, stderr io.WriteCloser
	wg             sync.WaitGroup // the output copies
	closeIn        sync.Once      // closes the container's stdin

	// The keeper holds a writer of its own on the stdin FIFO, so the copy reaches EOF only once the
	// client asked to close stdin and has closed its end: nothing it wrote is lost.
	mu        sync.Mutex
	holder    io.Closer
	closeAsks bool
}

// newStdio makes the stdio of process p. Without a terminal: /dev/null when nothing is named, else pipes
// owned by uid:gid whose ends are copied to and from the named targets. With one, the copies start
// once setConsole hands over the terminal's master.
func newStdio(ctx context.Context, stdin, stdout, stderr string, p *specs.Process, lw *logs.Writer, uid, gid int) (_ *stdio, retErr error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &stdio{terminal: p.Terminal, size: p.ConsoleSize, ctx: ctx, cancel: cancel, stdin: stdin, log: lw}
	terminal := p.Terminal
	defer func() {
		if retErr != nil {
			s.drain(0)
		}
	}()
	var err error
	if s.stdout, err = s.openOutput(stdout, logs.Stdout); err != nil {
		return s, err
	}
	if terminal {
		if stderr != "" {
			return s, fmt.Errorf("a terminal has no stderr, %q was given: %w", stderr, errdefs.ErrInvalidArgument)
		}
		return s, nil
	}
	if s.stderr, err = s.openOutput(stderr, logs.Stderr); err != nil {
		return s, err
	}
	if stdin == "" && s.stdout == nil && s.stderr == nil {
		s.rio, err = runc.NewNullIO()
		return s, err
	}
	pio, err := runc.NewPipeIO(uid, gid)
	if err != nil {
		return s, err
	}
	s.rio = pio
	s.copyOut(s.stdout, pio.Stdout())
	s.copyOut(s.stderr, pio.Stderr())
	if stdin == "" {
		s.closeStdinPipe()
	} else {
		go s.copyIn(pio.Stdin())
	}
	return s, nil
}

// setConsole sizes the terminal and starts copying between its master and the client.
func (s *stdio) setConsole(c console.Console) {
	s.console = c
	if s.size != nil {
		if err := c.Resize(console.WinSize{Width: uint16(s.size.Width), Height: uint16(s.size.Height)}); err != nil {
			log.G(s.ctx).WithError(err).Warn("failed to size the terminal")
		}
	}
	s.copyOut(s.stdout, c)
	if s.stdin != "" {
		go s.copyIn(c)
	}
}

// resize sets the terminal's size.
func (s *stdio) resize(width, height uint32) error {
	if s.console == nil {
		return fmt.Errorf("the process has no terminal: %w", errdefs.ErrFailedPrecondition)
	}
	return s.console.Resize(console.WinSize{Width: uint16(width), Height: uint16(height)})
}

// openOutput opens where the stream of a process's output goes: with a log, the log and a relay to
// the client's FIFO, if any; else nothing, a FIFO (held open for reading and writing, so that writes
// never fail and the open never waits for a reader), a plain file, or a file:// URI (appended to).
func (s *stdio) openOutput(target string, stream logs.Stream) (io.WriteCloser, error) {
	if s.log != nil {
		t := logs.Tee{Log: s.log.Stream(stream)}
		if target != "" {
			r, err := logs.OpenRelay(target)
			if err != nil {
				t.Close()
				return nil, err
			}
			t.Relay = r
		}
		return t, nil
	}
	if target == "" {
		return nil, nil
	}
	path := target
	if strings.Contains(target, "://") {
		p, ok := strings.CutPrefix(target, "file://")
		if !ok {
			return nil, fmt.Errorf("unknown stdio scheme in %q: accepted are a path and file://: %w", target, errdefs.ErrInvalidArgument)
		}
		path = p
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("failed to open %s: %w", target, err)
	}
	return f, nil
}

func (s *stdio) copyIn(w io.Writer) {
	defer s.closeStdinPipe()
	f, err := fifo.OpenFifo(s.ctx, s.stdin, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		log.G(s.ctx).WithError(err).Warn("failed to open stdin fifo")
		return
	}
	defer f.Close()
	holder, err := fifo.OpenFifo(s.ctx, s.stdin, syscall.O_WRONLY|syscall.O_NONBLOCK, 0)
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

func (s *stdio) closeStdinPipe() {
	s.closeIn.Do(func() {
		if s.rio != nil {
			if w := s.rio.Stdin(); w != nil {
				w.Close()
			}
		}
	})
}

// copyOut copies r to w until r ends; a terminal's master ends with EIO once the terminal is closed.
func (s *stdio) copyOut(w io.Writer, r io.Reader) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// Keep draining after a write error so the container never blocks on its output.
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 && w != nil {
				if _, werr := w.Write(buf[:n]); werr != nil {
					log.G(s.ctx).WithError(werr).Warn("failed to copy output")
					w = nil
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.EIO) && !errors.Is(err, os.ErrClosed) {
					log.G(s.ctx).WithError(err).Debug("output copy ended")
				}
				return
			}
		}
	}()
}

// drain waits up to d for the output copies to reach EOF, then closes everything, which ends a copy
// still blocked on either side: the client sees the end of the streams.
func (s *stdio) drain(d time.Duration) {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
	s.closeStdin()
	s.cancel()
	closers := []io.Closer{s.rio, s.console, s.stdout, s.stderr}
	for _, c := range closers {
		if c != nil {
			c.Close()
		}
	}
	<-done
	if s.log != nil {
		if err := s.log.Close(); err != nil {
			log.G(s.ctx).WithError(err).Warn("failed to write the container's log")
		}
	}
}

// reopenLog reopens the container's log file at its path, as after it was moved away.
func (k *container) reopenLog() error {
	if k.init.io == nil || k.init.io.log == nil {
		return fmt.Errorf("container %s keeps no log: %w", k.c.ID, errdefs.ErrFailedPrecondition)
	}
	if err := k.init.io.log.Reopen(); err != nil {
		return fmt.Errorf("failed to reopen the log of container %s: %w", k.c.ID, err)
	}
	return nil
}
