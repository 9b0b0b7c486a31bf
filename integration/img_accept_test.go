package integration

import (
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestImagesAcceptance is issue 9's first acceptance point end to end: an image built here from
// busybox-static is pushed to a local registry, fetched by `corral images pull` and by Debian's
// `ctr images pull`, and run by `corral run` and `ctr run` on every family; ctr 1.6 also exports it
// and imports it back, and imports a docker-archive.
func TestImagesAcceptance(t *testing.T) {
	d := startDaemon(t, "")
	ref := startRegistry(t) + "/acc/busybox:1"
	d.corral("images", "import", imageTar(t, t.TempDir(), ref)).must(t)
	d.ctr("images", "push", "--plain-http", ref).must(t)
	d.corral("images", "rm", ref).must(t)

	d.corral("images", "pull", "--plain-http", ref).must(t)
	families := []string{"lcr", "runc", "runsc", "io.containerd.runc.v2"}
	for _, rt := range families {
		id := "acc-corral-" + strings.ReplaceAll(rt, ".", "-")
		if out := d.corral("run", "--rm", "--runtime", rt, ref, id, "sh", "-c", "echo hi $IMG; pwd").must(t); out != "hi busybox\n/tmp\n" {
			t.Errorf("corral run on %s: %q", rt, out)
		}
	}
	d.corral("images", "rm", ref).must(t)

	d.ctr("images", "pull", "--plain-http", ref).must(t)
	run := func(how string) {
		t.Helper()
		for _, rt := range families {
			id := "acc-" + how + "-" + strings.ReplaceAll(rt, ".", "-")
			if out := d.ctr("run", "--rm", "--runtime", rt, ref, id, "sh", "-c", "echo hi $IMG; pwd").must(t); out != "hi busybox\n/tmp\n" {
				t.Errorf("ctr run on %s after %s: %q", rt, how, out)
			}
		}
	}
	run("pull")

	export := filepath.Join(t.TempDir(), "export.tar")
	d.ctr("images", "export", export, ref).must(t)
	d.ctr("images", "rm", "--sync", ref).must(t)
	d.ctr("images", "import", export).must(t)
	run("export")
	d.ctr("images", "rm", "--sync", ref).must(t)

	d.ctr("images", "import", dockerArchiveTar(t, t.TempDir(), ref, ocispec.ImageConfig{Env: []string{"PATH=/bin", "IMG=busybox"}, WorkingDir: "/tmp"}, nil)).must(t)
	run("docker-archive")
	if out := d.ctr("content", "ls", "-q").must(t); strings.Count(out, "sha256:") < 3 {
		t.Errorf("ctr content ls: want the manifest, config and layer: %q", out)
	}
	d.ctr("images", "rm", "--sync", ref).must(t)
	if out := d.ctr("snapshots", "ls").must(t); strings.Count(out, "\n") > 1 {
		t.Errorf("snapshots left after rm: %q", out)
	}
	if out := d.ctr("content", "ls", "-q").must(t); strings.TrimSpace(out) != "" {
		t.Errorf("content left after rm: %q", out)
	}
}
