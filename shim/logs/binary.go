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

	"github.com/corral-dev/corral/api/keeper"
)

// drainTimeout bounds how long a stopped logger goes on copying what the pipes still hold.
const drainTimeout = 2 * time.Second

// ServeBinary runs as a binary:// logger the way containerd's shims start one: the container's
// stdout is on fd 3 and its stderr on fd 4, fd 5 is closed once the log is open and the container
// may start, CONTAINER_ID and CONTAINER_NAMESPACE name the container, and SIGTERM stops it once the
// pipes are drained. args are the URI's query as key value pairs: path (absolute, required),
// format, max-size and max-file, which default to keeper.DefaultLog's, and stdout-fifo and
// stderr-fifo, FIFOs each stream is also relayed to for clients that attach. It returns when both pipes
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
	path, c, fifos, err := parseBinaryArgs(args)
	if err != nil {
		return fmt.Errorf("failed to start logger of %s: %w", id, err)
	}
	w, err := NewWriter(path, c)
	if err != nil {
		return fmt.Errorf("failed to start logger of %s: %w", id, err)
	}
	outs := map[Stream]io.WriteCloser{}
	for s := range map[Stream]bool{Stdout: true, Stderr: true} {
		t := Tee{Log: w.Stream(s)}
		if fifos[s] != "" {
			if t.Relay, err = OpenRelay(fifos[s]); err != nil {
				w.Close()
				return fmt.Errorf("failed to start logger of %s: %w", id, err)
			}
		}
		outs[s] = t
	}
	ready.Close()
	var wg sync.WaitGroup
	for s, f := range map[Stream]*os.File{Stdout: stdout, Stderr: stderr} {
		wg.Go(func() {
			_, _ = io.Copy(outs[s], f)
			outs[s].Close()
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

// parseBinaryArgs reads the logger's arguments over keeper.DefaultLog: the log's path and settings,
// and the FIFOs each stream is relayed to for attached clients (stdout-fifo, stderr-fifo).
func parseBinaryArgs(args []string) (string, keeper.Log, map[Stream]string, error) {
	c := keeper.DefaultLog()
	fifos := map[Stream]string{}
	if len(args)%2 != 0 {
		return "", c, nil, fmt.Errorf("arguments %q are not key value pairs: %w", args, errdefs.ErrInvalidArgument)
	}
	var path string
	for i := 0; i < len(args); i += 2 {
		var err error
		switch k, v := args[i], args[i+1]; k {
		case "path":
			path = v
		case "format":
			c.Format = v
		case "stdout-fifo":
			fifos[Stdout] = v
		case "stderr-fifo":
			fifos[Stderr] = v
		case "max-size":
			c.MaxSize, err = keeper.ParseSize(v)
		case "max-file":
			if c.MaxFile, err = strconv.Atoi(v); err != nil {
				err = fmt.Errorf("max-file %q is not a number: %w", v, errdefs.ErrInvalidArgument)
			}
		default:
			err = fmt.Errorf("unknown argument %q (accepted: path, format, max-size, max-file, stdout-fifo, stderr-fifo): %w", k, errdefs.ErrInvalidArgument)
		}
		if err != nil {
			return "", c, nil, err
		}
	}
	if !filepath.IsAbs(path) {
		return "", c, nil, fmt.Errorf("path must be absolute, got %q: %w", path, errdefs.ErrInvalidArgument)
	}
	return path, c, fifos, c.Validate()
}
