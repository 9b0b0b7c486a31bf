package integration

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ivConfig is the config of the docker-archive images of these tests: entrypoint and cmd print
// the user, an env variable and the working directory.
var ivConfig = ocispec.ImageConfig{
	User:         "1000",
	Entrypoint:   []string{"sh", "-c"},
	Cmd:          []string{"echo $(id -u) $IMG $PWD"},
	Env:          []string{"PATH=/bin", "IMG=docker"},
	WorkingDir:   "/tmp",
	StopSignal:   "SIGINT",
	ExposedPorts: map[string]struct{}{"80/tcp": {}},
	Labels:       map[string]string{"iv": "yes"},
}

// TestImagesVerbsImport imports an OCI layout from a file and a docker-archive from standard input
// with corral, lists them, and runs each with ctr.
func TestImagesVerbsImport(t *testing.T) {
	d := startDaemon(t, "")
	oci, docker := "localhost/iv/oci:1", "localhost/iv/docker:1"
	if out := d.corral("images", "import", imageTar(t, t.TempDir(), oci)).must(t); out != oci+"\n" {
		t.Fatalf("import printed %q, want %s", out, oci)
	}
	b, err := os.ReadFile(dockerArchiveTar(t, t.TempDir(), docker, ivConfig, nil))
	if err != nil {
		t.Fatal(err)
	}
	if out := d.corralIn(string(b), "images", "import", "-").must(t); out != docker+"\n" {
		t.Fatalf("import - printed %q, want %s", out, docker)
	}

	lines := strings.Split(strings.TrimSpace(d.corral("images", "ls").must(t)), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "REF TYPE DIGEST SIZE PLATFORMS" {
		t.Fatalf("images ls: want a header and two images, got %q", lines)
	}
	for i, want := range []struct{ name, mediaType string }{
		{docker, "application/vnd.docker.distribution.manifest.v2+json"},
		{oci, ocispec.MediaTypeImageManifest},
	} {
		f := strings.Fields(lines[i+1])
		if len(f) != 5 || f[0] != want.name || f[1] != want.mediaType || !strings.HasPrefix(f[2], "sha256:") ||
			!strings.HasSuffix(f[3], "iB") || f[4] != "linux/"+goruntime.GOARCH {
			t.Errorf("images ls row %q, want %s %s sha256:… SIZE linux/%s", lines[i+1], want.name, want.mediaType, goruntime.GOARCH)
		}
	}
	if out := d.corral("images", "ls", "-q", "name~=docker").must(t); out != docker+"\n" {
		t.Errorf("images ls -q name~=docker printed %q", out)
	}

	if out := d.ctr("run", "--rm", oci, "iv-import-oci", "sh", "-c", "echo hi $IMG; pwd").must(t); out != "hi busybox\n/tmp\n" {
		t.Errorf("run of the OCI image printed %q", out)
	}
	if out := d.ctr("run", "--rm", docker, "iv-import-docker").must(t); out != "1000 docker /tmp\n" {
		t.Errorf("run of the docker-archive image printed %q, want its entrypoint and cmd as user 1000 in /tmp", out)
	}
}

// TestImagesVerbsExport exports an image, checks the tarball has the OCI layout and docker's
// manifest.json, removes the image, imports the export (from a file and from standard input)
// and runs it.
func TestImagesVerbsExport(t *testing.T) {
	d := startDaemon(t, "")
	ref := "localhost/iv/export:1"
	d.corral("images", "import", imageTar(t, t.TempDir(), ref)).must(t)
	out := filepath.Join(t.TempDir(), "out.tar")
	d.corral("images", "export", out, ref).must(t)
	files := tarFiles(t, out)
	for _, name := range []string{"oci-layout", "index.json", "manifest.json"} {
		if _, ok := files[name]; !ok {
			t.Fatalf("export holds no %s: %v", name, slices.Collect(maps.Keys(files)))
		}
	}
	var mfsts []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &mfsts); err != nil {
		t.Fatal(err)
	}
	if len(mfsts) != 1 || !slices.Equal(mfsts[0].RepoTags, []string{ref}) || len(mfsts[0].Layers) != 1 {
		t.Fatalf("manifest.json: want one image tagged %s with one layer, got %+v", ref, mfsts)
	}
	for _, name := range append(mfsts[0].Layers, mfsts[0].Config) {
		if b, ok := files[name]; !ok || digest.FromBytes(b).Encoded() != filepath.Base(name) {
			t.Errorf("manifest.json names %s, which the export lacks or does not match", name)
		}
	}
	stdout := d.corral("images", "export", "-", ref).must(t)

	for i, in := range []string{out, "-"} {
		d.corral("images", "rm", ref).must(t)
		if out := d.corral("images", "ls", "-q").must(t); out != "" {
			t.Fatalf("images left after rm: %q", out)
		}
		if n := countFiles(t, filepath.Join(d.Root(), "images", "content", "blobs", "sha256")); n != 0 {
			t.Fatalf("%d blobs left after rm", n)
		}
		if got := d.corralIn(stdout, "images", "import", in).must(t); got != ref+"\n" {
			t.Fatalf("import of the export printed %q", got)
		}
		id := "iv-export-" + string(rune('a'+i))
		if got := d.ctr("run", "--rm", ref, id, "sh", "-c", "echo hi $IMG").must(t); got != "hi busybox\n" {
			t.Fatalf("run after the round trip printed %q", got)
		}
	}

	missing := filepath.Join(t.TempDir(), "missing.tar")
	r := d.corral("images", "export", missing, "localhost/iv/none:1")
	if r.code == 0 || !strings.Contains(r.stderr, "localhost/iv/none:1: no such image") {
		t.Errorf("export of a missing image: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s: %v", missing, err)
	}
}

// TestImagesVerbsRm checks that rm collects before it returns, refuses an image a container uses
// unless --force and names a missing image; once the container goes, nothing is left.
func TestImagesVerbsRm(t *testing.T) {
	d := startDaemon(t, "")
	ref := "localhost/iv/rm:1"
	d.corral("images", "import", imageTar(t, t.TempDir(), ref)).must(t)
	if n := countFiles(t, filepath.Join(d.Root(), "images", "content", "blobs", "sha256")); n != 3 {
		t.Fatalf("want manifest, config and layer stored after import, got %d blobs", n)
	}
	if n := countFiles(t, filepath.Join(d.Root(), "images", "snapshots", "overlayfs", "snapshots")); n == 0 {
		t.Fatal("import unpacked no snapshot")
	}
	d.corral("images", "rm", ref).must(t)
	assertNoImageLeft(t, d)

	d.corral("images", "import", imageTar(t, t.TempDir(), ref)).must(t)
	d.ctr("containers", "create", ref, "iv-rm").must(t)
	t.Cleanup(func() { d.ctr("containers", "rm", "iv-rm") })
	r := d.corral("images", "rm", ref)
	if r.code != 1 || !strings.Contains(r.stderr, "container iv-rm uses it") || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("rm of an image in use: exit %d, %q; want a refusal naming iv-rm and --force", r.code, r.stderr)
	}
	if out := d.corral("images", "ls", "-q").must(t); out != ref+"\n" {
		t.Fatalf("the refused rm removed the image: %q", out)
	}
	r = d.corral("images", "rm", "localhost/iv/none:1", ref)
	if r.code != 1 || !strings.Contains(r.stderr, "localhost/iv/none:1: no such image") {
		t.Fatalf("rm of a missing image: exit %d, %q", r.code, r.stderr)
	}
	if out := d.corral("images", "rm", "--force", ref).must(t); out != ref+"\n" {
		t.Fatalf("rm --force printed %q", out)
	}
	if out := d.ctr("snapshots", "ls").must(t); !strings.Contains(out, "iv-rm") {
		t.Fatalf("the container lost its snapshot with the image: %q", out)
	}
	d.ctr("containers", "rm", "iv-rm").must(t)
	// The collection after a container's delete is asynchronous: it frees the blobs and then, in a
	// cleanup of its own, the snapshot's files.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if countFiles(t, filepath.Join(d.Root(), "images", "content", "blobs", "sha256"))+
			countFiles(t, filepath.Join(d.Root(), "images", "snapshots", "overlayfs", "snapshots")) == 0 {
			break
		}
	}
	assertNoImageLeft(t, d)
}

// TestImagesVerbsBadInput imports broken tarballs: each is refused with an error naming the file
// and what is wrong with it, and leaves no image, content, ingest, lease, snapshot or mount.
func TestImagesVerbsBadInput(t *testing.T) {
	d := startDaemon(t, "")
	dir := t.TempDir()
	good, err := os.ReadFile(imageTar(t, t.TempDir(), "localhost/iv/bad:1"))
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 1<<20)
	_, _ = rand.Read(random)
	var notImage bytes.Buffer
	tw := tar.NewWriter(&notImage)
	_ = tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: 3, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("hi\n"))
	_ = tw.Close()
	isManifest := func(b []byte) bool { return bytes.Contains(b, []byte(`"layers"`)) }
	isLayer := func(b []byte) bool { return len(b) > 1<<16 }
	docker, err := os.ReadFile(dockerArchiveTar(t, t.TempDir(), "localhost/iv/bad:1", ivConfig, func(b []byte) []byte {
		return append(b, make([]byte, 512)...) // the config's diff id is of another layer
	}))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"good", good, ""},
		{"random", random, "not a tar archive"},
		{"text", []byte("hello\n"), "not a tar archive"},
		{"truncated", good[:len(good)/2], "the tarball is truncated"},
		{"not-image", notImage.Bytes(), "not an image tarball"},
		{"missing-manifest", editBlobs(t, good, isManifest, nil), "the tarball lacks a blob its images refer to"},
		{"layer-mismatch", editBlobs(t, good, isLayer, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), "does not match its digest"},
		{"docker-layer-mismatch", docker, "failed to unpack image localhost/iv/bad:1"},
	} {
		file := filepath.Join(dir, tc.name+".tar")
		if err := os.WriteFile(file, tc.b, 0o644); err != nil {
			t.Fatal(err)
		}
		if tc.want == "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			r := d.corral("images", "import", file)
			if r.code == 0 || !strings.Contains(r.stderr, "failed to import "+file+": ") || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want an error naming %s and saying %q", r.code, r.stderr, file, tc.want)
			}
			t.Log(r.stderr)
			assertNoImageLeft(t, d)
		})
	}

	// A failed import of a name that exists leaves the image as it was.
	d.corral("images", "import", filepath.Join(dir, "good.tar")).must(t)
	was := d.corral("images", "ls").must(t)
	if r := d.corral("images", "import", filepath.Join(dir, "docker-layer-mismatch.tar")); r.code == 0 {
		t.Fatal("import of a broken image over a good one succeeded")
	}
	if now := d.corral("images", "ls").must(t); now != was {
		t.Fatalf("a failed import changed the image it would replace: was %q, now %q", was, now)
	}
	if out := d.ctr("run", "--rm", "localhost/iv/bad:1", "iv-bad", "sh", "-c", "echo hi $IMG").must(t); out != "hi busybox\n" {
		t.Fatalf("run of the image a failed import kept printed %q", out)
	}

	r := d.corral("images", "import", filepath.Join(dir, "none.tar"))
	if r.code == 0 || !strings.Contains(r.stderr, "none.tar: no such file") {
		t.Errorf("import of a missing file: exit %d, %q", r.code, r.stderr)
	}
}

// TestImagesVerbsInspect checks that inspect prints the image record, its config, layers, chain and
// size.
func TestImagesVerbsInspect(t *testing.T) {
	d := startDaemon(t, "")
	ref := "localhost/iv/inspect:1"
	d.corral("images", "import", dockerArchiveTar(t, t.TempDir(), ref, ivConfig, nil)).must(t)
	var in struct {
		Name     string
		Target   ocispec.Descriptor
		Config   ocispec.Image
		Layers   []ocispec.Descriptor
		ChainIDs []digest.Digest `json:"chain_ids"`
		Size     int64
	}
	if err := json.Unmarshal([]byte(d.corral("images", "inspect", ref).must(t)), &in); err != nil {
		t.Fatal(err)
	}
	c := in.Config.Config
	if in.Name != ref || !strings.HasPrefix(string(in.Target.Digest), "sha256:") || c.User != ivConfig.User ||
		!slices.Equal(c.Entrypoint, ivConfig.Entrypoint) || !slices.Equal(c.Cmd, ivConfig.Cmd) || !slices.Equal(c.Env, ivConfig.Env) ||
		c.WorkingDir != ivConfig.WorkingDir || c.StopSignal != ivConfig.StopSignal || len(c.ExposedPorts) != 1 || c.Labels["iv"] != "yes" {
		t.Errorf("inspect: got %+v, want name %s and config %+v", in, ref, ivConfig)
	}
	if len(in.Layers) != 1 || !slices.Equal(in.ChainIDs, in.Config.RootFS.DiffIDs) || len(in.ChainIDs) != 1 || in.Size <= in.Layers[0].Size {
		t.Errorf("inspect: want one layer, its chain id and a size above the layer's, got %+v", in)
	}
	r := d.corral("images", "inspect", "localhost/iv/none:1")
	if r.code == 0 || !strings.Contains(r.stderr, "localhost/iv/none:1: no such image") {
		t.Errorf("inspect of a missing image: exit %d, %q", r.code, r.stderr)
	}
}

// assertNoImageLeft fails unless d's namespace has no image, lease or content, and its store no
// blob, ingest, snapshot or mount.
func assertNoImageLeft(t *testing.T, d *daemon) {
	t.Helper()
	for _, args := range [][]string{{"images", "ls", "-q"}, {"content", "ls", "-q"}, {"leases", "ls", "-q"}} {
		if out := d.ctr(args...).must(t); out != "" {
			t.Errorf("ctr %v: %q left", args, out)
		}
	}
	for _, dir := range []string{"content/blobs/sha256", "content/ingest", "snapshots/overlayfs/snapshots"} {
		if n := countFiles(t, filepath.Join(d.Root(), "images", dir)); n != 0 {
			t.Errorf("%d files left under %s", n, dir)
		}
	}
	if n := countMounts(t, d.dir); n != 0 {
		t.Errorf("%d mounts left under %s", n, d.dir)
	}
}

// tarFiles returns the regular files of tarball path by name.
func tarFiles(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if files[hdr.Name], err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// editBlobs returns tarball b with each blob that match selects changed by edit, or left out when
// edit is nil; the blobs keep their names.
func editBlobs(t *testing.T, b []byte, match func([]byte) bool, edit func([]byte) []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(hdr.Name, "blobs/") && match(body) {
			if edit == nil {
				continue
			}
			body = edit(body)
		}
		hdr.Size = int64(len(body))
		_ = tw.WriteHeader(hdr)
		_, _ = tw.Write(body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
