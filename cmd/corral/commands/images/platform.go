package images

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// checkPlatform wraps a pull's handlers so that an image without a manifest for the platform wanted
// fails naming it and the platforms the image has: containerd's pull says only "no match for platform
// in manifest" for an index, and takes a lone manifest for any platform.
func checkPlatform(cs content.Store, want ocispec.Platform, match platforms.Matcher) func(images.Handler) images.Handler {
	return func(h images.Handler) images.Handler {
		return images.HandlerFunc(func(ctx context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
			children, err := h.Handle(ctx, desc)
			switch {
			case errdefs.IsNotFound(err) && images.IsIndexType(desc.MediaType):
				b, rerr := content.ReadBlob(ctx, cs, desc)
				var index ocispec.Index
				if rerr != nil || json.Unmarshal(b, &index) != nil {
					return nil, err
				}
				var have []string
				for _, m := range index.Manifests {
					if m.Platform != nil {
						have = append(have, platforms.Format(*m.Platform))
					}
				}
				return nil, platformError(want, have)
			case err == nil && images.IsConfigType(desc.MediaType):
				p, err := images.ConfigPlatform(ctx, cs, desc)
				if err != nil {
					return nil, err
				}
				if !match.Match(platforms.Normalize(p)) {
					return nil, platformError(want, []string{platforms.Format(p)})
				}
			}
			return children, err
		})
	}
}

func platformError(want ocispec.Platform, have []string) error {
	return fmt.Errorf("no manifest for platform %s, only for %s (choose one with --platform): %w",
		platforms.Format(want), strings.Join(have, ", "), errdefs.ErrNotFound)
}
