package run

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/containerd/v2/core/mount"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/opencontainers/image-spec/identity"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// snapshotLease is how long the lease on a new container's snapshot lasts if corral dies before it
// ends it: long enough to unpack an image first, short enough that a killed corral's snapshot does
// not outlive the next garbage collection by a day.
const snapshotLease = 10 * time.Minute

// snapshot is the root filesystem an image gives a container: a snapshot on the image's chain id,
// keyed by the container's id, that a lease holds until the container's record references it.
type snapshot struct {
	client *containerd.Client
	image  containerd.Image
	// record is what the container's record takes from the image: Image, Snapshotter, SnapshotKey
	// and the image's stop signal as a label (containerd.StopSignalLabel).
	record containers.Container
	mounts []mount.Mount
	// endLease deletes the lease; nil once released.
	endLease func(context.Context) error
}

// prepareSnapshot looks image ref up and prepares the snapshot of container id on it in the
// snapshotter (the default one if ""), unpacking the image there first if it is not yet.
func prepareSnapshot(ctx context.Context, c *containerd.Client, ref, snapshotter, id string) (*snapshot, error) {
	img, err := getImage(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	if snapshotter, err = commands.Snapshotter(ctx, c, snapshotter); err != nil {
		return nil, err
	}
	s := &snapshot{client: c, image: img, record: containers.Container{ID: id}}
	config, err := img.Spec(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to read the config of image %s: %w", ref, err)
	}
	stop := cmp.Or(config.Config.StopSignal, "SIGTERM") // as containerd.WithImageStopSignal records it
	s.record.Labels = map[string]string{containerd.StopSignalLabel: stop}
	diffIDs := config.RootFS.DiffIDs
	ctx, s.endLease, err = c.WithLease(ctx, leases.WithRandomID(), leases.WithExpiration(snapshotLease))
	if err != nil {
		return nil, fmt.Errorf("failed to take a lease for the snapshot of container %s: %w", id, err)
	}
	sn, parent := c.SnapshotService(snapshotter), identity.ChainID(diffIDs).String()
	s.mounts, err = sn.Prepare(ctx, id, parent)
	if errdefs.IsNotFound(err) { // the image is not unpacked in this snapshotter yet
		if err = img.Unpack(ctx, snapshotter); err != nil {
			err = fmt.Errorf("failed to unpack image %s into snapshotter %s: %w", ref, snapshotter, err)
		} else {
			s.mounts, err = sn.Prepare(ctx, id, parent)
		}
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("failed to prepare the snapshot of container %s: %w", id, err), s.endLease(context.WithoutCancel(ctx)))
	}
	s.record.Image, s.record.Snapshotter, s.record.SnapshotKey = img.Name(), snapshotter, id
	return s, nil
}

// release ends the lease on the snapshot; unless created, a container record that references the
// snapshot, it removes the snapshot first. Only the first call does anything.
func (s *snapshot) release(ctx context.Context, created bool) error {
	if s.endLease == nil {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	var err error
	if !created {
		if err = s.client.SnapshotService(s.record.Snapshotter).Remove(ctx, s.record.SnapshotKey); err != nil && !errdefs.IsNotFound(err) {
			err = fmt.Errorf("failed to remove the snapshot of container %s: %w", s.record.ID, err)
		} else {
			err = nil
		}
	}
	err = errors.Join(err, s.endLease(ctx))
	s.endLease = nil
	return err
}

// getImage returns image ref of the store, also found by its normalized name (busybox is
// docker.io/library/busybox:latest).
func getImage(ctx context.Context, c *containerd.Client, ref string) (containerd.Image, error) {
	img, err := c.GetImage(ctx, ref)
	if errdefs.IsNotFound(err) {
		if named, perr := reference.ParseDockerRef(ref); perr == nil && named.String() != ref {
			img, err = c.GetImage(ctx, named.String())
		}
	}
	switch {
	case errdefs.IsNotFound(err):
		return nil, fmt.Errorf("image %s not found: get it with `corral images pull %s` or `corral images import FILE`: %w", ref, ref, errdefs.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("failed to get image %s: %w", ref, err)
	}
	return img, nil
}
