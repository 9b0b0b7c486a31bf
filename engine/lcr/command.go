package lcr

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// CheckCommand finds the rootfs, then the process's command in it, as runc does at create:
// lxc-execute would only fail later, with no message but status 255.
func CheckCommand(s *specs.Spec) error {
	if s.Root == nil || s.Process == nil || len(s.Process.Args) == 0 {
		return nil // the translation reports these
	}
	if fi, err := os.Stat(s.Root.Path); err != nil {
		return fmt.Errorf("failed to find the container's rootfs: %v: %w", err, errdefs.ErrFailedPrecondition)
	} else if !fi.IsDir() {
		return fmt.Errorf("container rootfs %s is not a directory: %w", s.Root.Path, errdefs.ErrFailedPrecondition)
	}
	name := s.Process.Args[0]
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(s.Process.Cwd, p)
		}
		if executable(filepath.Join(s.Root.Path, p)) {
			return nil
		}
		return fmt.Errorf("exec: %q: no such file or directory in the container's rootfs: %w", name, errdefs.ErrFailedPrecondition)
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range s.Process.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if filepath.IsAbs(dir) && executable(filepath.Join(s.Root.Path, dir, name)) {
			return nil
		}
	}
	return fmt.Errorf("exec: %q: executable file not found in $PATH of the container: %w", name, errdefs.ErrFailedPrecondition)
}

// executable reports whether p is a symlink (resolved inside the container, so not followed here) or
// an executable file.
func executable(p string) bool {
	fi, err := os.Lstat(p)
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeSymlink != 0 || (fi.Mode().IsRegular() && fi.Mode()&0o111 != 0)
}
