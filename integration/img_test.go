package integration

import (
	"strings"
	"testing"
)

// TestImagesCtr pushes an image built here to a local registry through corrald, pulls it back with
// ctr and runs it on every family ctr can name.
func TestImagesCtr(t *testing.T) {
	d := startDaemon(t, "")
	reg := startRegistry(t)
	ref := reg + "/img/busybox:1"
	d.ctr("images", "import", imageTar(t, t.TempDir(), ref)).must(t)
	d.ctr("images", "push", "--plain-http", ref).must(t)
	d.ctr("images", "rm", "--sync", ref).must(t)
	if out := d.ctr("images", "ls", "-q").must(t); strings.Contains(out, ref) {
		t.Fatalf("image still listed after rm: %s", out)
	}
	d.ctr("images", "pull", "--plain-http", ref).must(t)
	if out := d.ctr("images", "ls", "-q").must(t); !strings.Contains(out, ref) {
		t.Fatalf("pulled image not listed: %s", out)
	}
	for _, rt := range []string{"runc", "io.containerd.runc.v2", "lcr"} {
		t.Run(rt, func(t *testing.T) {
			out := d.ctr("run", "--rm", "--runtime", rt, ref, "img-"+strings.ReplaceAll(rt, ".", "-"), "sh", "-c", "echo hi $IMG; pwd").must(t)
			if out != "hi busybox\n/tmp\n" {
				t.Fatalf("got %q", out)
			}
			if n := countMounts(t, d.dir); n != 0 {
				t.Fatalf("%d mounts left under %s after run --rm", n, d.dir)
			}
		})
	}
	if out := d.ctr("snapshots", "ls").must(t); strings.Contains(out, "img-") {
		t.Fatalf("a container's snapshot outlived run --rm: %q", out)
	}
}
