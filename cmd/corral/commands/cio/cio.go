// Package cio holds the FIFO stdio that corral connects its own streams to a process's with, as
// containerd's cio does for ctr.
package cio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/containerd/fifo"
)

// Paths are the stdio FIFOs of one process, as Tasks.Create, Tasks.Exec and Tasks.Get carry them;
// an empty path means none (/dev/null).
type Paths struct{ Stdin, Stdout, Stderr string }

// DefaultRoot is the directory the FIFO directories are made under: /run/corral/fifo, or for a user
// other than root with XDG_RUNTIME_DIR set, corral/fifo in it.
func DefaultRoot() string {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" && os.Geteuid() != 0 {
		return filepath.Join(dir, "corral", "fifo")
	}
	return "/run/corral/fifo"
}

// NewPaths makes a new directory for one process's FIFOs under root/ns, its name starting with name,
// and returns their paths in it. There is a stdin only if stdin is set, and no stderr with a
// terminal, whose output all comes on stdout. The FIFOs themselves are made by Open.
func NewPaths(root, ns, name string, stdin, terminal bool) (Paths, error) {
	parent := filepath.Join(root, ns)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return Paths{}, fmt.Errorf("failed to create fifo dir: %w", err)
	}
	dir, err := os.MkdirTemp(parent, name+"-")
	if err != nil {
		return Paths{}, fmt.Errorf("failed to create fifo dir: %w", err)
	}
	p := Paths{Stdout: filepath.Join(dir, "stdout")}
	if stdin {
		p.Stdin = filepath.Join(dir, "stdin")
	}
	if !terminal {
		p.Stderr = filepath.Join(dir, "stderr")
	}
	return p, nil
}

// Remove removes the FIFOs of p, then their directories if that leaves them empty. Anything that is
// not a FIFO is left alone, and nothing is reported: it is cleanup.
func Remove(p Paths) {
	for _, path := range []string{p.Stdin, p.Stdout, p.Stderr} {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
			os.Remove(path)
		}
	}
	for _, path := range []string{p.Stdin, p.Stdout, p.Stderr} {
		if path != "" {
			os.Remove(filepath.Dir(path))
		}
	}
}

// FIFOs are corral's open ends of one process's FIFOs: it writes stdin and reads stdout and stderr.
type FIFOs struct {
	stdin          io.WriteCloser
	stdout, stderr io.ReadCloser
	done           chan struct{} // closed when the copied output FIFOs have reached EOF
	last           atomic.Int64  // when output was last read, in Unix nanoseconds
}

// Open makes the FIFOs of p and opens corral's ends as containerd's cio does, without waiting for
// the runtime's, so that the runtime can open its ends while the process is created. Each output
// FIFO is copied to stdout or stderr from now on, unless that writer is nil: a detached process's
// FIFOs are only held open while it is created.
func Open(ctx context.Context, p Paths, stdout, stderr io.Writer) (f *FIFOs, retErr error) {
	f = &FIFOs{}
	defer func() {
		if retErr != nil {
			f.Close()
		}
	}()
	open := func(path string, flag int) (io.ReadWriteCloser, error) {
		rwc, err := fifo.OpenFifo(ctx, path, flag|syscall.O_CREAT|syscall.O_NONBLOCK, 0o600)
		if err != nil {
			return nil, fmt.Errorf("failed to open fifo: %w", err)
		}
		return rwc, nil
	}
	if p.Stdin != "" {
		rwc, err := open(p.Stdin, syscall.O_WRONLY)
		if err != nil {
			return nil, err
		}
		f.stdin = rwc
	}
	for _, o := range []struct {
		path string
		rc   *io.ReadCloser
	}{{p.Stdout, &f.stdout}, {p.Stderr, &f.stderr}} {
		if o.path != "" {
			rwc, err := open(o.path, syscall.O_RDONLY)
			if err != nil {
				return nil, err
			}
			*o.rc = rwc
		}
	}
	f.copyOut(stdout, stderr)
	return f, nil
}

// Attach opens corral's ends of the FIFOs p of a process that exists already and copies its output
// FIFOs to stdout and stderr. An output FIFO no one writes to any more reads as at its end, and a
// stdin FIFO no one reads from any more is left out.
func Attach(p Paths, stdout, stderr io.Writer) (f *FIFOs, retErr error) {
	f = &FIFOs{}
	defer func() {
		if retErr != nil {
			f.Close()
		}
	}()
	if p.Stdin != "" {
		w, err := os.OpenFile(p.Stdin, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		switch {
		case err == nil:
			f.stdin = w
		case !errors.Is(err, syscall.ENXIO):
			return nil, fmt.Errorf("failed to open fifo: %w", err)
		}
	}
	for _, o := range []struct {
		path string
		rc   *io.ReadCloser
	}{{p.Stdout, &f.stdout}, {p.Stderr, &f.stderr}} {
		if o.path != "" {
			r, err := os.OpenFile(o.path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				return nil, fmt.Errorf("failed to open fifo: %w", err)
			}
			*o.rc = r
		}
	}
	f.copyOut(stdout, stderr)
	return f, nil
}

// copyOut copies the output FIFOs to their writers and closes done once the copies end.
func (f *FIFOs) copyOut(stdout, stderr io.Writer) {
	f.done = make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range []struct {
		w io.Writer
		r io.Reader
	}{{stdout, f.stdout}, {stderr, f.stderr}} {
		if c.w != nil && c.r != nil {
			wg.Add(1)
			go func() { io.Copy(c.w, activity{c.r, &f.last}); wg.Done() }()
		}
	}
	go func() { wg.Wait(); close(f.done) }()
}

// activity is a reader that records when it last read anything.
type activity struct {
	r    io.Reader
	last *atomic.Int64
}

func (a activity) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// Quiet is closed once the output has ended, or nothing has been read from it for d, counted from
// the call at the earliest.
func (f *FIFOs) Quiet(d time.Duration) <-chan struct{} {
	quiet := make(chan struct{})
	from := time.Now().UnixNano()
	go func() {
		defer close(quiet)
		for {
			since := time.Since(time.Unix(0, max(from, f.last.Load())))
			if since >= d {
				return
			}
			select {
			case <-f.done:
				return
			case <-time.After(d - since):
			}
		}
	}()
	return quiet
}

// CopyStdin copies in to the stdin FIFO, if there is one, in the background; at in's EOF it closes
// the FIFO and calls closed, if not nil.
func (f *FIFOs) CopyStdin(in io.Reader, closed func()) {
	if f.stdin == nil {
		return
	}
	go func() {
		io.Copy(f.stdin, in)
		f.stdin.Close()
		if closed != nil {
			closed()
		}
	}()
}

// Done is closed once the copied output FIFOs have reached EOF: the runtime closed its ends after the
// process's output was drained.
func (f *FIFOs) Done() <-chan struct{} { return f.done }

// Close closes corral's ends of the FIFOs; the FIFOs stay.
func (f *FIFOs) Close() {
	for _, c := range []io.Closer{f.stdin, f.stdout, f.stderr} {
		if c != nil {
			c.Close()
		}
	}
}
