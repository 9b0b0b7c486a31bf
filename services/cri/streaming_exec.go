package cri

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"k8s.io/cri-streaming/pkg/streaming"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// streamRuntime is what the streaming server calls once a client connected to a URL: the
// container and pod ids were resolved when the URL was handed out.
type streamRuntime struct{ s *Service }

var _ streaming.Runtime = streamRuntime{}

// Exec runs cmd in the running container with the container's process settings and the given
// streams, a terminal if tty, resized from resize. It returns once cmd exited and its output was
// read (for at most timeouts.io_drain), or kills it once ctx is done. A non-zero exit status is a
// utilexec.CodeExitError, which the streaming server reports as the command's exit code.
func (r streamRuntime) Exec(ctx context.Context, id string, cmd []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	s := r.s
	ctx = s.ns(ctx)
	task, base, err := s.loadTask(ctx, id)
	if err != nil {
		return err
	}
	pspec := *base
	pspec.Args, pspec.Terminal = cmd, tty
	var stdin io.Reader
	eof := make(chan struct{})
	if in != nil {
		stdin = &eofReader{r: in, eof: eof}
	}
	opts := []cio.Opt{cio.WithStreams(stdin, out, errOut)}
	if tty {
		opts = append(opts, cio.WithTerminal)
	}
	execID := "exec-" + newID()[:16]
	proc, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(opts...))
	if err != nil {
		return fmt.Errorf("failed to exec in container %s: %w", id, err)
	}
	defer func() { _, _ = proc.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill) }()
	exited, err := proc.Wait(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("failed to wait for exec in container %s: %w", id, err)
	}
	if err := proc.Start(ctx); err != nil {
		return fmt.Errorf("failed to start exec in container %s: %w", id, err)
	}
	log.G(ctx).WithFields(log.Fields{"id": id, "exec": execID, "tty": tty}).Debug("cri: exec started")
	if in != nil {
		go func() {
			select {
			case <-eof:
				_ = proc.CloseIO(context.WithoutCancel(ctx), containerd.WithStdinCloser)
			case <-exited:
			}
		}()
	}
	if tty && resize != nil {
		go resizeFrom(ctx, resize, proc.Resize)
	}
	select {
	case st := <-exited:
		code, _, err := st.Result()
		if err != nil {
			return fmt.Errorf("failed to exec in container %s: %w", id, err)
		}
		s.drainIO(proc.IO())
		if code != 0 {
			return utilexec.CodeExitError{Err: fmt.Errorf("command %q in container %s exited with status %d", cmd[0], id, code), Code: int(code)}
		}
		return nil
	case <-ctx.Done():
		if err := proc.Kill(context.WithoutCancel(ctx), syscall.SIGKILL); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			log.G(ctx).WithError(err).WithField("id", id).Warn("cri: failed to kill an exec whose client went away")
		}
		return ctx.Err()
	}
}

// drainIO waits for the output of an exited process to be read, for at most timeouts.io_drain: a
// child it left running may hold its output open.
func (s *Service) drainIO(io cio.IO) {
	done := make(chan struct{})
	go func() { io.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.ioDrain):
	}
}

// resizeFrom resizes a terminal to every size received, until resize is closed or ctx done.
func resizeFrom(ctx context.Context, resize <-chan remotecommand.TerminalSize, set func(context.Context, uint32, uint32) error) {
	for {
		select {
		case size, ok := <-resize:
			if !ok {
				return
			}
			if size.Width == 0 || size.Height == 0 {
				continue
			}
			if err := set(ctx, uint32(size.Width), uint32(size.Height)); err != nil {
				log.G(ctx).WithError(err).Debug("cri: failed to resize a terminal")
			}
		case <-ctx.Done():
			return
		}
	}
}

// eofReader reads r and closes eof once r ended: the client closed its stdin.
type eofReader struct {
	r    io.Reader
	eof  chan struct{}
	once sync.Once
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.once.Do(func() { close(e.eof) })
	}
	return n, err
}
