package daemon

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// socketDirMode is the mode of a socket directory corrald creates. An existing directory keeps its own.
const socketDirMode = 0o711

// lockSocket takes the lock file next to the gRPC socket, <address>.lock, so one corrald at a time
// serves an address whatever its root. The lock lasts until the returned file is closed or corrald
// exits; the file itself stays.
func lockSocket(address string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(address), socketDirMode); err != nil {
		return nil, fmt.Errorf("failed to create socket directory %s: %w", filepath.Dir(address), err)
	}
	path := address + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to open lock file %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("another corrald serves %s (it holds %s): %w", address, path, errdefs.ErrAlreadyExists)
		}
		return nil, fmt.Errorf("failed to lock %s: %w", path, err)
	}
	return f, nil
}

// listen opens the unix socket at path with mode. A missing directory is created with socketDirMode;
// an existing one is left as it is. A stale socket is replaced; one that answers, or a file that is
// not a socket, is left alone and listen fails.
func listen(path string, mode os.FileMode) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), socketDirMode); err != nil {
		return nil, fmt.Errorf("failed to create socket directory %s: %w", filepath.Dir(path), err)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("failed to set the mode of socket %s: %w", path, err)
	}
	return ln, nil
}

// removeStale removes the socket at path if nothing listens on it: connecting is refused.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to check socket %s: %w", path, err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket; remove it or choose another address: %w", path, errdefs.ErrAlreadyExists)
	}
	conn, err := net.Dial("unix", path)
	if err == nil {
		conn.Close()
		return fmt.Errorf("socket %s answers: another daemon serves it: %w", path, errdefs.ErrAlreadyExists)
	}
	if !errors.Is(err, unix.ECONNREFUSED) {
		return fmt.Errorf("failed to check whether socket %s is in use: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("failed to remove stale socket %s: %w", path, err)
	}
	return nil
}
