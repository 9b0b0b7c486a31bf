package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/containerd/errdefs"
)

// Configured returns the binary configured for name ([runtimes.NAME] path and runtime_args), after
// checking it is an executable file; ok is false when no path is configured.
func Configured(name, path string, args []string) (bin Binary, ok bool, err error) {
	if path == "" {
		return Binary{}, false, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Binary{}, true, fmt.Errorf("configured path %s ([runtimes.%s] path) does not exist: %w", path, name, errdefs.ErrFailedPrecondition)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return Binary{}, true, fmt.Errorf("configured path %s ([runtimes.%s] path) is not an executable file: %w", path, name, errdefs.ErrFailedPrecondition)
	}
	return Binary{Name: name, Path: path, Args: args}, true, nil
}

// LookPath finds the executable file for runtime name on $PATH, and with nextToSelf also next to
// corrald's own executable, as containerd looks for shims.
func LookPath(name, file string, args []string, nextToSelf bool) (Binary, error) {
	p, err := exec.LookPath(file)
	if err == nil {
		return Binary{Name: name, Path: p, Args: args}, nil
	}
	if !errors.Is(err, exec.ErrNotFound) {
		return Binary{}, err
	}
	where := "$PATH (" + os.Getenv("PATH") + ")"
	if nextToSelf {
		if self, err := os.Executable(); err == nil {
			dir := filepath.Dir(self)
			if p := filepath.Join(dir, file); IsExecutable(p) {
				return Binary{Name: name, Path: p, Args: args}, nil
			}
			where += " or next to corrald in " + dir
		}
	}
	return Binary{}, fmt.Errorf("binary %s not found on %s (install it or set [runtimes.%s] path): %w", file, where, name, errdefs.ErrFailedPrecondition)
}

// IsExecutable reports whether p is an executable file.
func IsExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
