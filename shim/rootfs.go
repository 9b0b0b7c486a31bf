package shim

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/v2/core/mount"
)

// RootfsDir is where the keeper mounts the rootfs mounts of a Create (a snapshot's, when a client
// runs an image), as containerd's runc shim does; the spec's root.path is then "rootfs" or this
// directory's absolute path.
const RootfsDir = "rootfs"

// mountRootfs mounts ms on <bundle>/rootfs in the host's mount namespace, with containerd's mount
// package (overlay, bind, …); nothing is left mounted when it fails.
func mountRootfs(bundle string, ms []*types.Mount) error {
	target := filepath.Join(bundle, RootfsDir)
	if err := os.Mkdir(target, 0o711); err != nil && !os.IsExist(err) {
		return fmt.Errorf("failed to create %s: %w", target, err)
	}
	mounts := make([]mount.Mount, 0, len(ms))
	for _, m := range ms {
		mounts = append(mounts, mount.Mount{Type: m.Type, Source: m.Source, Target: m.Target, Options: m.Options})
	}
	if err := mount.All(mounts, target); err != nil {
		_ = unmountRootfs(bundle)
		return fmt.Errorf("failed to mount the rootfs on %s: %w", target, err)
	}
	return nil
}

// unmountRootfs unmounts everything under <bundle>/rootfs; nothing mounted is no error.
func unmountRootfs(bundle string) error {
	if err := mount.UnmountRecursive(filepath.Join(bundle, RootfsDir), 0); err != nil {
		return fmt.Errorf("failed to unmount the rootfs of %s: %w", bundle, err)
	}
	return nil
}

// absRoot makes a relative root.path, such as ctr's "rootfs", a path in the bundle, as runtimes
// read it.
func absRoot(bundle, root string) string {
	if root == "" || filepath.IsAbs(root) {
		return root
	}
	return filepath.Join(bundle, root)
}
