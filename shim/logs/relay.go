package logs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// relay copies a log's stream to a client's FIFO without ever blocking the log: the FIFO is held
// open for reading and writing, so a client may come and go, and what no client reads in time is
// dropped rather than waited for.
type relay struct{ f *os.File }

// OpenRelay opens the FIFO at path as a relay.
func OpenRelay(path string) (io.WriteCloser, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("failed to open %s: %w", path, err)
	}
	return relay{f}, nil
}

// Write writes what the FIFO takes now and drops the rest; it fails only once the relay is closed.
func (r relay) Write(p []byte) (int, error) {
	rc, err := r.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var werr error
	if err := rc.Write(func(fd uintptr) bool {
		_, werr = unix.Write(int(fd), p)
		return true // never wait for the FIFO to drain
	}); err != nil {
		return 0, err
	}
	if werr != nil && !errors.Is(werr, unix.EAGAIN) {
		return 0, werr
	}
	return len(p), nil
}

// Close closes the FIFO.
func (r relay) Close() error { return r.f.Close() }

// Tee writes to a log stream and, if set, a relay; it closes both.
type Tee struct {
	Log, Relay io.WriteCloser
}

// Write writes p to the log, then to the relay.
func (t Tee) Write(p []byte) (int, error) {
	n, err := t.Log.Write(p)
	if t.Relay != nil && err == nil {
		_, _ = t.Relay.Write(p)
	}
	return n, err
}

// Close closes the log stream and the relay.
func (t Tee) Close() error {
	err := t.Log.Close()
	if t.Relay != nil {
		err = errors.Join(err, t.Relay.Close())
	}
	return err
}
