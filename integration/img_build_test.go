package integration

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	imgspecs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// imageTar writes an OCI layout tarball of a busybox image named name to dir and returns its path.
// The image has one uncompressed layer (busybox-static, its applets as symlinks, /etc/passwd with a
// user 1000 and a user app, 2000:2001, also in group staff), and a config with an environment and a
// working directory; nothing comes from a network.
func imageTar(t *testing.T, dir, name string) string {
	t.Helper()
	return imageTarCmd(t, dir, name, []string{"sh"})
}

// imageTarCmd is imageTar with cmd as the image's command.
func imageTarCmd(t *testing.T, dir, name string, cmd []string) string {
	t.Helper()
	return imageTarConfig(t, dir, name, ocispec.ImageConfig{Env: []string{"PATH=/bin", "IMG=busybox"}, Cmd: cmd, WorkingDir: "/tmp"})
}

// imageTarConfig is imageTar with config as the image's config.
func imageTarConfig(t *testing.T, dir, name string, config ocispec.ImageConfig) string {
	t.Helper()
	blobs := ociBlobs{}
	layer := busyboxLayer(t)
	image, _ := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{Architecture: goruntime.GOARCH, OS: "linux"},
		Config:   config,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(layer)}},
	})
	manifest, _ := json.Marshal(ocispec.Manifest{
		Versioned: imgspecs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: blobs.add(ocispec.MediaTypeImageConfig, image),
		Layers: []ocispec.Descriptor{blobs.add(ocispec.MediaTypeImageLayer, layer)},
	})
	return layoutTar(t, filepath.Join(dir, "image.tar"), name, blobs, blobs.add(ocispec.MediaTypeImageManifest, manifest))
}

// layoutTar writes an OCI layout tarball to path, of the blobs and an index of manifest m named
// name, and returns path.
func layoutTar(t *testing.T, path, name string, blobs ociBlobs, m ocispec.Descriptor) string {
	t.Helper()
	m.Annotations = map[string]string{"io.containerd.image.name": name, ocispec.AnnotationRefName: name[strings.LastIndex(name, ":")+1:]}
	index, _ := json.Marshal(ocispec.Index{Versioned: imgspecs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{m}})
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	file := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	file(ocispec.ImageLayoutFile, []byte(`{"imageLayoutVersion":"1.0.0"}`))
	file("index.json", index)
	for d, b := range blobs {
		file("blobs/sha256/"+d.Encoded(), b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// busyboxLayer is a tar of a busybox root filesystem.
func busyboxLayer(t *testing.T) []byte {
	t.Helper()
	bb := requireTool(t, "busybox")
	bin, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, d := range []string{"bin", "dev", "etc", "proc", "root", "sys", "tmp", "work"} {
		_ = tw.WriteHeader(&tar.Header{Name: d + "/", Mode: 0o755, Typeflag: tar.TypeDir})
	}
	_ = tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg})
	_, _ = tw.Write(bin)
	for _, app := range strings.Fields(string(list)) {
		if app != "busybox" {
			_ = tw.WriteHeader(&tar.Header{Name: "bin/" + app, Linkname: "busybox", Mode: 0o777, Typeflag: tar.TypeSymlink})
		}
	}
	for name, s := range map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/tmp:/bin/sh\napp:x:2000:2001::/work:/bin/sh\n",
		"etc/group":  "root:x:0:\nuser:x:1000:\napp:x:2001:\nstaff:x:3000:app\n",
	} {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(s)), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(s))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// dockerArchiveTar writes a docker-archive tarball, the format of docker save (manifest.json, a
// config and a layer tar; no index.json), of a busybox image named name with config cfg to dir and
// returns its path. edit, if not nil, changes the layer the config describes, not the one stored.
func dockerArchiveTar(t *testing.T, dir, name string, cfg ocispec.ImageConfig, edit func([]byte) []byte) string {
	t.Helper()
	layer := busyboxLayer(t)
	described := layer
	if edit != nil {
		described = edit(slices.Clone(layer))
	}
	config, _ := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{Architecture: goruntime.GOARCH, OS: "linux"},
		Config:   cfg,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(described)}},
	})
	configName := digest.FromBytes(config).Encoded() + ".json"
	layerDir := digest.FromBytes(layer).Encoded()
	manifest, _ := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{name}, "Layers": []string{layerDir + "/layer.tar"}}})

	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	_ = tw.WriteHeader(&tar.Header{Name: layerDir + "/", Mode: 0o755, Typeflag: tar.TypeDir})
	for _, f := range []struct {
		name string
		b    []byte
	}{{layerDir + "/layer.tar", layer}, {configName, config}, {"manifest.json", manifest}} {
		_ = tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.b)), Typeflag: tar.TypeReg})
		_, _ = tw.Write(f.b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "docker.tar")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
