package cri

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"golang.org/x/sys/unix"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"

	v2 "github.com/corral-dev/corral/runtime/v2"
)

// ioDir holds the stdio FIFOs of container id, which its keeper holds open for Attach.
func (s *Service) ioDir(id string) string { return filepath.Join(s.dir, "containers", id, "io") }

// containerIO is the stdio of container c's task: FIFOs in its io directory (stdin only if its config
// asks for it, no stderr with a terminal) that its keeper opens for reading and writing and holds,
// relaying the output there besides writing the log, so that Attach can come and go. A shim v2 of
// containerd's opens them itself and blocks on a FIFO no one reads: a shim v2 container gets them only
// when corral-shim relays its log to them (no stdin, no terminal), else none.
func (s *Service) containerIO(c *ctr) (cio.Creator, error) {
	stdin, tty := c.cfg.GetStdin(), c.cfg.GetTty()
	if v2.IsV2Name(c.runtime) && (stdin || tty || c.logPath == "") {
		return cio.NullIO, nil
	}
	p := s.fifoPaths(c.id, stdin, tty)
	if err := os.MkdirAll(s.ioDir(c.id), 0o700); err != nil {
		return nil, fmt.Errorf("failed to create the stdio directory of container %s: %w", c.id, err)
	}
	for _, f := range []string{p.Stdin, p.Stdout, p.Stderr} {
		if f == "" {
			continue
		}
		if err := unix.Mkfifo(f, 0o600); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("failed to create the stdio fifo %s of container %s: %w", f, c.id, err)
		}
	}
	return func(string) (cio.IO, error) { return pathsIO(p), nil }, nil
}

// fifoPaths are the FIFOs of container id: stdin only if stdin, no stderr with a terminal.
func (s *Service) fifoPaths(id string, stdin, tty bool) cio.Config {
	dir := s.ioDir(id)
	p := cio.Config{Stdout: filepath.Join(dir, "stdout"), Stderr: filepath.Join(dir, "stderr"), Terminal: tty}
	if stdin {
		p.Stdin = filepath.Join(dir, "stdin")
	}
	if tty {
		p.Stderr = ""
	}
	return p
}

// pathsIO is a task's stdio that only names the FIFOs: corrald holds none of their ends.
type pathsIO cio.Config

func (p pathsIO) Config() cio.Config { return cio.Config(p) }
func (pathsIO) Cancel()              {}
func (pathsIO) Wait()                {}
func (pathsIO) Close() error         { return nil }

// Attach connects the streams to the running container's own stdio: its output from now on (what
// the FIFOs buffered while no one was attached is dropped), shared with the other clients attached
// (fanouts), and its stdin if the container has one;
// once the client's stdin ends, the container's is closed if its config says stdin_once. It returns
// when the container exits, the client stops reading, or ctx is done.
func (r streamRuntime) Attach(ctx context.Context, id string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	s := r.s
	ctx = s.ns(ctx)
	c, err := s.runningContainer(ctx, id)
	if err != nil {
		return err
	}
	p := s.fifoPaths(c.id, c.cfg.GetStdin(), c.cfg.GetTty())
	if _, err := os.Stat(p.Stdout); err != nil {
		return fmt.Errorf("container %s was started without stdio to attach to (a shim v2 container with stdin, a terminal or no log): %w", c.id, errdefs.ErrFailedPrecondition)
	}
	task, _, err := s.loadTask(ctx, c.id)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exited, err := task.Wait(ctx)
	if err != nil {
		return fmt.Errorf("failed to wait for container %s: %w", c.id, err)
	}
	done := make(chan struct{}, 2) // an output ended: the container's output or the client's
	outputs := 0
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, o := range []struct {
		path string
		w    io.Writer
	}{{p.Stdout, out}, {p.Stderr, errOut}} {
		if o.path == "" || o.w == nil {
			continue
		}
		ended, detach, err := s.outputs.attach(o.path, o.w)
		if err != nil {
			return fmt.Errorf("failed to open the stdio of container %s: %w", c.id, err)
		}
		defer detach()
		outputs++
		go func() { <-ended; done <- struct{}{} }()
	}
	if in != nil && p.Stdin != "" {
		f, err := os.OpenFile(p.Stdin, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		switch {
		case errors.Is(err, syscall.ENXIO): // the container's stdin was closed: no one reads it
		case err != nil:
			return fmt.Errorf("failed to open the stdin of container %s: %w", c.id, err)
		default:
			files = append(files, f)
			go func() {
				_, _ = io.Copy(f, in)
				f.Close() // the keeper's copy ends only once every writer is gone
				if c.cfg.GetStdinOnce() {
					if err := task.CloseIO(ctx, containerd.WithStdinCloser); err != nil {
						log.G(ctx).WithError(err).WithField("id", c.id).Warn("cri: failed to close the stdin of a stdin_once container")
					}
				}
			}()
		}
	}
	if tty && resize != nil {
		go resizeFrom(ctx, resize, task.Resize)
	}
	select {
	case <-exited:
		// The keeper closes the FIFOs once it drained the output: let the copies finish.
		drained := time.After(s.ioDrain)
		for ; outputs > 0; outputs-- {
			select {
			case <-done:
			case <-drained:
				return nil
			}
		}
	case <-done:
	case <-ctx.Done():
	}
	return nil
}

// discardBuffered drops what a FIFO holds now without waiting: output written while no one was
// attached.
func discardBuffered(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	buf := make([]byte, 32<<10)
	_ = rc.Read(func(fd uintptr) bool {
		for {
			if n, err := unix.Read(int(fd), buf); n <= 0 || err != nil {
				return true
			}
		}
	})
}
