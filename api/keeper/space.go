package keeper

import (
	"fmt"
	"strings"
	"syscall"
)

// lowSpace is the free space under which a runtime's failure is put down to a full filesystem.
const lowSpace = 1 << 20

// NoSpace returns err, noting ENOSPC when the filesystem of dir, a bundle, has less than 1 MiB
// free and err does not say so already: a runtime that fails for want of space there often cannot
// say so, its own log being on it.
func NoSpace(dir string, err error) error {
	var st syscall.Statfs_t
	if err == nil || strings.Contains(err.Error(), syscall.ENOSPC.Error()) ||
		syscall.Statfs(dir, &st) != nil || int64(st.Bavail)*st.Bsize >= lowSpace {
		return err
	}
	return fmt.Errorf("%w (%s has %d KiB free: %w)", err, dir, int64(st.Bavail)*st.Bsize>>10, syscall.ENOSPC)
}
