package images

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	imagesapi "github.com/containerd/containerd/api/services/images/v1"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/grpc/metadata"

	"github.com/corral-dev/corral/api"
)

func nsCtx(ns string) context.Context {
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs(api.NamespaceKey, ns))
}

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestServiceRefuses(t *testing.T) {
	svc := NewService(openStore(t))
	for name, tc := range map[string]struct {
		ctx  context.Context
		img  *imagesapi.Image
		want error
	}{
		"no namespace": {context.Background(), &imagesapi.Image{Name: "a"}, errdefs.ErrFailedPrecondition},
		"no name":      {nsCtx("ns"), &imagesapi.Image{}, errdefs.ErrInvalidArgument},
		"no target":    {nsCtx("ns"), &imagesapi.Image{Name: "a"}, errdefs.ErrInvalidArgument},
	} {
		_, err := svc.Create(tc.ctx, &imagesapi.CreateImageRequest{Image: tc.img})
		if !errors.Is(errgrpc.ToNative(err), tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}

// TestDeleteCollects checks a synchronous delete removes the image's content from disk, and only
// in the image's namespace.
func TestDeleteCollects(t *testing.T) {
	s := openStore(t)
	svc := NewService(s)
	blob := []byte(`{"schemaVersion":2}`)
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	for _, ns := range []string{"a", "b"} {
		if err := content.WriteBlob(nsCtx(ns), s.DB.ContentStore(), "w", bytes.NewReader(blob), desc); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Create(nsCtx(ns), &imagesapi.CreateImageRequest{Image: &imagesapi.Image{Name: "x:1", Target: oci.DescriptorToProto(desc)}}); err != nil {
			t.Fatal(err)
		}
	}
	blobPath := filepath.Join(s.Root, "content", "blobs", "sha256", desc.Digest.Encoded())
	if _, err := svc.Delete(nsCtx("a"), &imagesapi.DeleteImageRequest{Name: "x:1", Sync: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(blobPath); err != nil {
		t.Fatalf("namespace b's blob went with a's image: %v", err)
	}
	if _, err := svc.Delete(nsCtx("b"), &imagesapi.DeleteImageRequest{Name: "x:1", Sync: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(blobPath); !os.IsNotExist(err) {
		t.Fatalf("blob left after both images went: %v", err)
	}
}
