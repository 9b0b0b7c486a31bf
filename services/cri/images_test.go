package cri

import (
	"reflect"
	"testing"

	"github.com/containerd/containerd/v2/core/images"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestImageRefs(t *testing.T) {
	const target = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	img := &image{}
	for _, name := range []string{"registry.k8s.io/pause:3.9", "docker.io/library/busybox:latest", "docker.io/library/busybox@" + target, "sha256:" + target[7:]} {
		img.addRef(images.Image{Name: name, Target: ocispec.Descriptor{Digest: target}})
	}
	img.tags, img.digests = uniq(img.tags), uniq(img.digests)
	wantTags := []string{"docker.io/library/busybox:latest", "registry.k8s.io/pause:3.9"}
	wantDigests := []string{"docker.io/library/busybox@" + target, "registry.k8s.io/pause@" + target}
	if !reflect.DeepEqual(img.tags, wantTags) || !reflect.DeepEqual(img.digests, wantDigests) {
		t.Fatalf("tags %v digests %v, want %v %v", img.tags, img.digests, wantTags, wantDigests)
	}
}

func TestImageUser(t *testing.T) {
	for _, tc := range []struct {
		user, username string
		uid            int64 // -1: none
	}{
		{"", "", -1}, {"1002", "", 1002}, {"www-data", "www-data", -1}, {"1003:1004", "", 1003}, {"www-data:1004", "www-data", -1}, {"0", "", 0},
	} {
		img := &image{config: ocispec.Image{Config: ocispec.ImageConfig{User: tc.user}}}
		got := img.cri()
		uid := int64(-1)
		if got.Uid != nil {
			uid = got.Uid.Value
		}
		if got.Username != tc.username || uid != tc.uid {
			t.Errorf("user %q: username %q uid %d, want %q %d", tc.user, got.Username, uid, tc.username, tc.uid)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"busybox": "docker.io/library/busybox:latest", "registry.k8s.io/pause:3.9": "registry.k8s.io/pause:3.9",
		"localhost:5000/x": "localhost:5000/x:latest", "sha256:abc": "sha256:abc",
	} {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
