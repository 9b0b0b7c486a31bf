package cri

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// labelPinned marks an image the kubelet must not garbage-collect, as containerd's CRI does.
const labelPinned = "io.cri-containerd.pinned"

// image is one CRI image: every containerd image record whose config is the same, grouped under
// that config's digest, its id.
type image struct {
	id      string
	tags    []string
	digests []string
	names   []string // the containerd image records
	size    uint64
	config  ocispec.Image
	pinned  bool
}

// images lists the namespace's images, grouped by id; an image whose config cannot be read for
// this platform is left out and logged.
func (s *Service) images(ctx context.Context) ([]*image, error) {
	recs, err := s.client.ImageService().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to list images: %w", err)
	}
	cs := s.client.ContentStore()
	platform := platforms.Default()
	byID := map[string]*image{}
	var out []*image
	for _, rec := range recs {
		desc, err := rec.Config(ctx, cs, platform)
		if err != nil {
			log.G(ctx).WithError(err).WithField("image", rec.Name).Debug("cri: image without a config for this platform")
			continue
		}
		img := byID[desc.Digest.String()]
		if img == nil {
			img = &image{id: desc.Digest.String()}
			b, err := content.ReadBlob(ctx, cs, desc)
			if err == nil {
				err = json.Unmarshal(b, &img.config)
			}
			if err != nil {
				log.G(ctx).WithError(err).WithField("image", rec.Name).Warn("cri: unreadable image config")
				continue
			}
			size, _ := rec.Size(ctx, cs, platform)
			img.size = uint64(size)
			byID[img.id] = img
			out = append(out, img)
		}
		img.names = append(img.names, rec.Name)
		img.pinned = img.pinned || rec.Labels[labelPinned] == "pinned" || rec.Name == s.sandboxImage()
		img.addRef(rec)
	}
	for _, img := range out {
		img.tags, img.digests = uniq(img.tags), uniq(img.digests)
	}
	return out, nil
}

// addRef adds a record's name to the tags or digests, as containerd's CRI reports them: a tag also
// gives the repository at the record's target digest.
func (img *image) addRef(rec images.Image) {
	if strings.HasPrefix(rec.Name, "sha256:") {
		return // an id reference, as containerd's CRI records one
	}
	ref, err := reference.ParseNormalizedNamed(rec.Name)
	if err != nil {
		return
	}
	if _, ok := ref.(reference.Digested); ok {
		img.digests = append(img.digests, ref.String())
	}
	if _, ok := ref.(reference.Tagged); ok {
		img.tags = append(img.tags, ref.String())
		img.digests = append(img.digests, ref.Name()+"@"+rec.Target.Digest.String())
	}
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// normalize turns a reference as kubelet sends it ("busybox") into the stored name
// ("docker.io/library/busybox:latest"); anything that does not parse is returned as it is.
func normalize(ref string) string {
	if strings.HasPrefix(ref, "sha256:") {
		return ref
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.TagNameOnly(named).String()
}

// sandboxImage is the configured sandbox image, normalized.
func (s *Service) sandboxImage() string { return normalize(s.cfg.SandboxImage) }

// findImage returns the image ref names, by id (sha256:..., or its hex), id prefix, tag or digest
// reference; NotFound if there is none.
func (s *Service) findImage(ctx context.Context, ref string) (*image, error) {
	all, err := s.images(ctx)
	if err != nil {
		return nil, err
	}
	name := normalize(ref)
	id := ref
	if !strings.HasPrefix(id, "sha256:") {
		id = "sha256:" + id
	}
	for _, img := range all {
		if img.id == ref || img.id == id || contains(img.tags, name) || contains(img.digests, name) || contains(img.names, ref) {
			return img, nil
		}
	}
	if len(ref) >= 12 { // an unambiguous id prefix, as crictl shows ids
		var found *image
		for _, img := range all {
			if strings.HasPrefix(img.id, id) {
				if found != nil {
					return nil, fmt.Errorf("image id prefix %q is ambiguous: %w", ref, errdefs.ErrInvalidArgument)
				}
				found = img
			}
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, fmt.Errorf("image %q: %w", ref, errdefs.ErrNotFound)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// cri is the CRI's view of the image.
func (img *image) cri() *runtimeapi.Image {
	out := &runtimeapi.Image{Id: img.id, RepoTags: img.tags, RepoDigests: img.digests, Size: img.size,
		Spec: &runtimeapi.ImageSpec{Image: img.id}, Pinned: img.pinned}
	user, _, _ := strings.Cut(img.config.Config.User, ":")
	if uid, err := strconv.ParseInt(user, 10, 64); err == nil {
		out.Uid = &runtimeapi.Int64Value{Value: uid}
	} else {
		out.Username = user
	}
	return out
}
