package integration

import (
	"strings"
	"testing"
)

// TestPullBusybox pulls an image built here from a local registry with corral, then runs it with
// ctr.
func TestPullBusybox(t *testing.T) {
	d := startDaemon(t, "")
	reg := startRegistry(t)
	ref := reg + "/img/busybox:1"
	pushImage(t, d, ref, imageTar(t, t.TempDir(), ref))
	out := d.corral("images", "pull", "--plain-http", ref).must(t)
	if !strings.HasPrefix(out, ref+": sha256:") || strings.Count(out, "\n") != 1 {
		t.Fatalf("want one line %s: DIGEST when stdout is no terminal, got %q", ref, out)
	}
	if out := d.ctr("images", "ls", "-q").must(t); !strings.Contains(out, ref) {
		t.Fatalf("pulled image not listed: %s", out)
	}
	if out := d.ctr("run", "--rm", "--runtime", "runc", ref, "pull-busybox", "sh", "-c", "echo hi $IMG").must(t); out != "hi busybox\n" {
		t.Fatalf("got %q", out)
	}
}

// pushImage imports the image tarball as ref into d, pushes it to ref's registry, and removes it
// from d again.
func pushImage(t *testing.T, d *daemon, ref, tarball string) {
	t.Helper()
	d.ctr("images", "import", tarball).must(t)
	d.ctr("images", "push", "--plain-http", ref).must(t)
	d.ctr("images", "rm", "--sync", ref).must(t)
}
