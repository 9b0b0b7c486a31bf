package v2

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/v2/core/mount"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"golang.org/x/sys/unix"
)

// idmappedDir is where, in a bundle, the layers of an idmapped overlay rootfs are mounted while a
// containerd shim mounts the rootfs.
const idmappedDir = "idmapped-layers"

// idmapLayers rewrites the rootfs mounts of a user namespace container for a containerd shim older
// than containerd 2.0, whose mount package knows no uidmap= and gidmap= options: it mounts the
// common directory of the overlay's lower layers idmapped under bundle, read-only, and points
// lowerdir there, as containerd 2's mount package does in the shim. done unmounts that directory;
// call it once the shim mounted the rootfs (the overlay keeps its own reference to the layers).
// Mounts without the options come back unchanged.
func idmapLayers(bundle string, ms []*types.Mount) (_ []*types.Mount, done func(), _ error) {
	out := make([]*types.Mount, 0, len(ms))
	done = func() {}
	idmapped := false
	for _, m := range ms {
		var uidmap, gidmap string
		var opts []string
		for _, o := range m.Options {
			if v, ok := strings.CutPrefix(o, "uidmap="); ok {
				uidmap = v
			} else if v, ok := strings.CutPrefix(o, "gidmap="); ok {
				gidmap = v
			} else {
				opts = append(opts, o)
			}
		}
		if uidmap == "" && gidmap == "" {
			out = append(out, m)
			continue
		}
		if m.Type != "overlay" || uidmap == "" || gidmap == "" || idmapped {
			done()
			return nil, nil, fmt.Errorf("failed to idmap rootfs mount %s (%s): only one overlay mount with both uidmap and gidmap can be: %w",
				m.Source, m.Type, errdefs.ErrInvalidArgument)
		}
		idmapped = true
		var err error
		if opts, done, err = idmapLowerdirs(filepath.Join(bundle, idmappedDir), opts, uidmap, gidmap); err != nil {
			return nil, nil, err
		}
		out = append(out, &types.Mount{Type: m.Type, Source: m.Source, Target: m.Target, Options: opts})
	}
	return out, done, nil
}

// idmapLowerdirs mounts the lower layers' common directory at dir, idmapped for the mappings, and
// returns opts with lowerdir through dir.
func idmapLowerdirs(dir string, opts []string, uidmap, gidmap string) ([]string, func(), error) {
	at := -1
	var lowers []string
	for i, o := range opts {
		if v, ok := strings.CutPrefix(o, "lowerdir="); ok {
			at, lowers = i, strings.Split(v, ":")
		}
	}
	if at < 0 {
		return nil, nil, fmt.Errorf("failed to idmap the rootfs: its overlay mount has no lowerdir: %w", errdefs.ErrInvalidArgument)
	}
	common := commonDir(lowers)
	if common == "/" {
		return nil, nil, fmt.Errorf("failed to idmap the rootfs: its layers %s share no directory but /: %w", strings.Join(lowers, ":"), errdefs.ErrInvalidArgument)
	}
	userns, err := mount.GetUsernsFD(uidmap, gidmap)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create a user namespace for uidmap %s gidmap %s: %w", uidmap, gidmap, err)
	}
	defer userns.Close()
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("failed to create %s: %w", dir, err)
	}
	if err := mount.IDMapMountWithAttrs(common, dir, int(userns.Fd()), unix.MOUNT_ATTR_RDONLY, 0); err != nil {
		_ = os.Remove(dir)
		return nil, nil, fmt.Errorf("failed to idmap the rootfs layers under %s: %w", common, err)
	}
	for i, l := range lowers {
		lowers[i] = filepath.Join(dir, strings.TrimPrefix(l, common))
	}
	opts = append([]string(nil), opts...)
	opts[at] = "lowerdir=" + strings.Join(lowers, ":")
	return opts, func() {
		if err := mount.UnmountRecursive(dir, 0); err != nil {
			log.L.WithError(err).Warnf("failed to unmount idmapped layers %s", dir)
			return
		}
		_ = os.Remove(dir)
	}, nil
}

// commonDir is the deepest directory holding every path of paths (clean and absolute).
func commonDir(paths []string) string {
	common := filepath.Dir(paths[0])
	for _, p := range paths[1:] {
		for common != "/" && !strings.HasPrefix(p, common+"/") {
			common = filepath.Dir(common)
		}
	}
	return common
}
