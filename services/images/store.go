// Package images keeps images, content and snapshots with containerd's own libraries: the local
// content store and the overlayfs snapshotter (native where overlayfs cannot work) under one root,
// their metadata in a bbolt db of containerd's schema, namespaced, with leases and garbage
// collection. It serves containerd's Images API over that db.
package images

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/containerd/v2/core/metadata"
	"github.com/containerd/containerd/v2/core/mount"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/containerd/containerd/v2/plugins/snapshots/native"
	"github.com/containerd/containerd/v2/plugins/snapshots/overlay"
	"github.com/containerd/containerd/v2/plugins/snapshots/overlay/overlayutils"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	bolt "go.etcd.io/bbolt"
)

// Snapshotter names, as containerd and its clients spell them.
const (
	Overlay = "overlayfs"
	Native  = "native"
)

// Store is the image store of one corrald: the metadata db over the content store and snapshotters.
type Store struct {
	// DB is containerd's metadata db: wrap its content store, snapshotters and leases for services.
	DB *metadata.DB
	// Default is the snapshotter used by corral when none is named: overlayfs when it works here.
	Default string
	// Root is the directory holding everything below.
	Root string
	// Capabilities are containerd's snapshotter capabilities, by snapshotter: "remap-ids" where the
	// snapshotter gives a snapshot labelled with a user namespace's id mappings idmapped layers.
	Capabilities map[string][]string

	gc *collector
}

// Open opens (creating) the store under root: root/meta.db, root/content and
// root/snapshots/<snapshotter>. It collects garbage left by a previous run before it returns, and
// unmounts what a killed run left mounted under root/tmpmounts.
func Open(ctx context.Context, root string) (_ *Store, retErr error) {
	if err := os.MkdirAll(root, 0o711); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", root, err)
	}
	// The Diff service mounts a snapshot to apply a layer to it in a directory made there; this
	// process-wide setting is containerd's own (its server sets it the same way).
	if err := mount.SetTempMountLocation(filepath.Join(root, "tmpmounts")); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", filepath.Join(root, "tmpmounts"), err)
	}
	if warnings, err := mount.CleanupTempMounts(0); err != nil || len(warnings) > 0 {
		log.G(ctx).WithError(errors.Join(append(warnings, err)...)).Warn("failed to unmount what a previous run left mounted")
	}
	cs, err := local.NewStore(filepath.Join(root, "content"))
	if err != nil {
		return nil, fmt.Errorf("failed to open the content store: %w", err)
	}
	sns, def, caps, err := snapshotters(ctx, filepath.Join(root, "snapshots"))
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			for _, sn := range sns {
				sn.Close()
			}
		}
	}()
	path := filepath.Join(root, "meta.db")
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("failed to open %s: another corrald is using it: %w", path, errdefs.ErrUnavailable)
		}
		return nil, fmt.Errorf("failed to open %s: %w", path, err)
	}
	db := metadata.NewDB(bdb, cs, sns)
	if err := db.Init(ctx); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("failed to initialize %s: %w", path, err)
	}
	s := &Store{DB: db, Default: def, Root: root, Capabilities: caps, gc: newCollector(db)}
	if err := s.Collect(ctx); err != nil {
		log.G(ctx).WithError(err).Warn("failed to collect garbage at start")
	}
	return s, nil
}

// CapRemapIDs is containerd's snapshotter capability of idmapping a snapshot's layers for the id
// mappings its labels (snapshots.LabelSnapshotUIDMapping, LabelSnapshotGIDMapping) name.
const CapRemapIDs = "remap-ids"

// snapshotters opens native, and overlayfs where the kernel and the filesystem under dir allow it,
// idmapping layers (CapRemapIDs) where the kernel can, as containerd's overlayfs plugin does; the
// default is overlayfs if it opened.
func snapshotters(ctx context.Context, dir string) (map[string]snapshots.Snapshotter, string, map[string][]string, error) {
	sn, err := native.NewSnapshotter(filepath.Join(dir, Native))
	if err != nil {
		return nil, "", nil, fmt.Errorf("failed to open the native snapshotter: %w", err)
	}
	sns := map[string]snapshots.Snapshotter{Native: sn}
	ovl := filepath.Join(dir, Overlay)
	if err := os.MkdirAll(ovl, 0o700); err != nil {
		return nil, "", nil, err
	}
	if err := overlayutils.Supported(ovl); err != nil {
		log.G(ctx).WithError(err).Info("overlayfs snapshotter unavailable; using native")
		return sns, Native, nil, nil
	}
	var opts []overlay.Opt
	caps := map[string][]string{}
	if ok, err := overlayutils.SupportsIDMappedMounts(); ok && err == nil {
		opts, caps[Overlay] = append(opts, overlay.WithRemapIDs), []string{CapRemapIDs}
	}
	if sns[Overlay], err = overlay.NewSnapshotter(ovl, opts...); err != nil {
		sn.Close()
		return nil, "", nil, fmt.Errorf("failed to open the overlayfs snapshotter: %w", err)
	}
	return sns, Overlay, caps, nil
}

// Roots returns the root directory of each snapshotter, by name.
func (s *Store) Roots() map[string]string {
	out := map[string]string{}
	for name := range s.DB.Snapshotters() {
		out[name] = filepath.Join(s.Root, "snapshots", name)
	}
	return out
}

// Close stops garbage collection and closes the db and snapshotters.
func (s *Store) Close() error {
	s.gc.stop()
	for _, sn := range s.DB.Snapshotters() {
		sn.Close()
	}
	return s.DB.Close()
}
