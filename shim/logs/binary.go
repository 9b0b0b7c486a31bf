package logs

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/config"
)

// drainTimeout bounds how long a stopped logger goes on copying what the pipes still hold.
const drainTimeout = 2 * time.Second

// ServeBinary runs as a binary:// logger the way containerd's shims start one: the container's
// stdout is on fd 3 and its stderr on fd 4, fd 5 is closed once the log is open and the container
// may start, CONTAINER_ID and CONTAINER_NAMESPACE name the container, and SIGTERM stops it once the
// pipes are drained. args are the URI's query as key value pairs: path (absolute, required),
// format, max-size and max-file, which default to config.DefaultLog's. It returns when both pipes
// are closed, or when stopped.
func ServeBinary(ctx context.Context, args []string) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	var fds [3]*os.File
	for i, name := range []string{"CONTAINER_STDOUT", "CONTAINER_STDERR", "CONTAINER_WAIT"} {
		fd := uintptr(3 + i)
		_ = syscall.SetNonblock(int(fd), true) // so that closing the file ends a pending read
		fds[i] = os.NewFile(fd, name)
	}
	id := os.Getenv("CONTAINER_NAMESPACE") + "/" + os.Getenv("CONTAINER_ID")
	return serveBinary(ctx, id, args, fds[0], fds[1], fds[2])
}

func serveBinary(ctx context.Context, id string, args []string, stdout, stderr, ready *os.File) error {
	defer stdout.Close()
	defer stderr.Close()
	defer ready.Close()
	path, c, err := parseBinaryArgs(args)
	if err != nil {
		return fmt.Errorf("failed to start logger of %s: %w", id, err)
	}
	w, err := NewWriter(path, c)
	if err != nil {
		return fmt.Errorf("failed to start logger of %s: %w", id, err)
	}
	ready.Close()
	var wg sync.WaitGroup
	for s, f := range map[Stream]*os.File{Stdout: stdout, Stderr: stderr} {
		wg.Go(func() {
			sw := w.Stream(s)
			_, _ = io.Copy(sw, f)
			sw.Close()
		})
	}
	copied := make(chan struct{})
	go func() { wg.Wait(); close(copied) }()
	select {
	case <-copied:
	case <-ctx.Done():
		select {
		case <-copied:
		case <-time.After(drainTimeout):
			stdout.Close()
			stderr.Close()
			<-copied
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("failed to write log of %s: %w", id, err)
	}
	return nil
}

// parseBinaryArgs reads the logger's arguments over config.DefaultLog.
func parseBinaryArgs(args []string) (string, config.Log, error) {
	c := config.DefaultLog()
	if len(args)%2 != 0 {
		return "", c, fmt.Errorf("arguments %q are not key value pairs: %w", args, errdefs.ErrInvalidArgument)
	}
	var path string
	for i := 0; i < len(args); i += 2 {
		var err error
		switch k, v := args[i], args[i+1]; k {
		case "path":
			path = v
		case "format":
			c.Format = v
		case "max-size":
			c.MaxSize, err = config.ParseSize(v)
		case "max-file":
			if c.MaxFile, err = strconv.Atoi(v); err != nil {
				err = fmt.Errorf("max-file %q is not a number: %w", v, errdefs.ErrInvalidArgument)
			}
		default:
			err = fmt.Errorf("unknown argument %q (accepted: path, format, max-size, max-file): %w", k, errdefs.ErrInvalidArgument)
		}
		if err != nil {
			return "", c, err
		}
	}
	if !filepath.IsAbs(path) {
		return "", c, fmt.Errorf("path must be absolute, got %q: %w", path, errdefs.ErrInvalidArgument)
	}
	return path, c, c.Validate()
}
