package cri

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/containerd/v2/core/mount"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/image-spec/identity"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// imageVolumeDir holds the image volumes of container id, one numbered directory per mount:
// <state>/cri/image-volumes/<id>/<n>.
func (s *Service) imageVolumeDir(id string) string { return filepath.Join(s.dir, "image-volumes", id) }

// imageVolumeKey is the snapshot of image volume n of container id; imageVolumeLease holds them.
func imageVolumeKey(id, n string) string { return "cri-image-volume-" + id + "-" + n }
func imageVolumeLease(id string) string  { return "cri-image-volumes-" + id }

// mountImageVolumes mounts, for each of cfg's mounts that names an image (KEP-4639), a read-only
// view snapshot of that image (pulled or imported first) on the host under imageVolumeDir, as
// containerd 2.1 does, and points the mount's host path at it or at its image_sub_path; it fills
// in the mount's image_ref with the image's id, which ContainerStatus reports. A lease named for
// the container keeps the snapshots until removeImageVolumes. On error nothing is left mounted.
func (s *Service) mountImageVolumes(ctx context.Context, id string, cfg *runtimeapi.ContainerConfig) (retErr error) {
	var started bool
	defer func() {
		if retErr != nil && started {
			retErr = errors.Join(retErr, s.removeImageVolumes(context.WithoutCancel(ctx), id))
		}
	}()
	for i, m := range cfg.GetMounts() {
		if m.GetImage() == nil {
			continue
		}
		ref := m.GetImage().GetImage()
		switch {
		case ref == "":
			return fmt.Errorf("image mount at %s names no image: %w", m.GetContainerPath(), errdefs.ErrInvalidArgument)
		case m.GetHostPath() != "":
			return fmt.Errorf("image mount at %s has host path %q: an image mount takes none: %w", m.GetContainerPath(), m.GetHostPath(), errdefs.ErrInvalidArgument)
		case !m.GetReadonly():
			return fmt.Errorf("image mount at %s must be read-only: %w", m.GetContainerPath(), errdefs.ErrInvalidArgument)
		}
		if !started { // the directory first: removeImageVolumes deletes the lease only if it exists
			started = true
			if err := os.MkdirAll(s.imageVolumeDir(id), 0o755); err != nil {
				return fmt.Errorf("failed to create image volume directory of container %s: %w", id, err)
			}
			if _, err := s.client.LeasesService().Create(ctx, leases.WithID(imageVolumeLease(id))); err != nil && !errdefs.IsAlreadyExists(err) {
				return fmt.Errorf("failed to create lease for the image volumes of container %s: %w", id, err)
			}
		}
		target, imageID, err := s.mountImageVolume(leases.WithLease(ctx, imageVolumeLease(id)), id, strconv.Itoa(i), ref)
		if err != nil {
			return fmt.Errorf("failed to mount image %q at %s: %w", ref, m.GetContainerPath(), err)
		}
		if sub := m.GetImageSubPath(); sub != "" {
			if target, err = imageSubPath(target, sub); err != nil {
				return err
			}
		}
		m.HostPath, m.Image.ImageRef = target, imageID
	}
	return nil
}

// mountImageVolume mounts a read-only view of image ref as image volume n of container id and
// returns where, and the image's id.
func (s *Service) mountImageVolume(ctx context.Context, id, n, ref string) (string, string, error) {
	found, err := s.findImage(ctx, ref)
	if errors.Is(err, errdefs.ErrNotFound) {
		return "", "", fmt.Errorf("image %q is not in namespace %s: pull it first: %w", ref, s.cfg.Namespace, err)
	}
	if err != nil {
		return "", "", err
	}
	img, err := s.client.GetImage(ctx, found.names[0])
	if err != nil {
		return "", "", fmt.Errorf("failed to get image %s: %w", found.names[0], err)
	}
	if err := s.unpack(ctx, img); err != nil {
		return "", "", err
	}
	diffIDs, err := img.RootFS(ctx)
	if err != nil {
		return "", "", fmt.Errorf("failed to read the layers of image %s: %w", found.names[0], err)
	}
	mounts, err := s.client.SnapshotService(s.snap).View(ctx, imageVolumeKey(id, n), identity.ChainID(diffIDs).String())
	if err != nil {
		return "", "", fmt.Errorf("failed to create view snapshot of image %s: %w", found.names[0], err)
	}
	target := filepath.Join(s.imageVolumeDir(id), n)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return "", "", fmt.Errorf("failed to create image volume directory %s: %w", target, err)
	}
	if err := mount.All(mounts, target); err != nil {
		return "", "", fmt.Errorf("failed to mount image volume %s: %w", target, err)
	}
	return target, found.id, nil
}

// imageSubPath is directory sub of the image volume at target, which must not lead out of it.
func imageSubPath(target, sub string) (string, error) {
	f, err := os.OpenInRoot(target, sub)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("image_sub_path %q is not in the image: %w", sub, errdefs.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("invalid image_sub_path %q: %v: %w", sub, err, errdefs.ErrInvalidArgument)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("failed to stat image_sub_path %q: %w", sub, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("image_sub_path %q is not a directory (only directories can be mounted): %w", sub, errdefs.ErrInvalidArgument)
	}
	return filepath.Join(target, sub), nil
}

// removeImageVolumes unmounts the image volumes of container id and removes their snapshots, lease
// and directories; a container without any is no error.
func (s *Service) removeImageVolumes(ctx context.Context, id string) error {
	dir := s.imageVolumeDir(id)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read image volumes of container %s: %w", id, err)
	}
	for _, e := range entries {
		target := filepath.Join(dir, e.Name())
		if err := mount.UnmountAll(target, 0); err != nil {
			return fmt.Errorf("failed to unmount image volume %s: %w", target, err)
		}
		if err := s.client.SnapshotService(s.snap).Remove(ctx, imageVolumeKey(id, e.Name())); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("failed to remove snapshot of image volume %s: %w", target, err)
		}
	}
	if err := s.client.LeasesService().Delete(ctx, leases.Lease{ID: imageVolumeLease(id)}); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("failed to delete lease of the image volumes of container %s: %w", id, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("failed to remove image volumes of container %s: %w", id, err)
	}
	return nil
}
