package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestImagesGC checks that a running container keeps its snapshot through an image rm and a
// collection, and that once the container goes nothing is left: no content, no snapshot, no mount.
func TestImagesGC(t *testing.T) {
	d := startDaemon(t, "")
	ref := "localhost/img/gc:1"
	d.ctr("images", "import", imageTar(t, t.TempDir(), ref)).must(t)
	// The import's index is held by the import's lease only: the collection after the lease goes is
	// asynchronous.
	out := d.ctr("content", "ls", "-q").must(t)
	for deadline := time.Now().Add(5 * time.Second); len(strings.Fields(out)) != 3 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		out = d.ctr("content", "ls", "-q").must(t)
	}
	if len(strings.Fields(out)) != 3 {
		t.Fatalf("want manifest, config and layer in content ls, got %q", out)
	}
	if out := d.ctr("snapshots", "ls").must(t); !strings.Contains(out, "Committed") {
		t.Fatalf("no committed snapshot after import: %q", out)
	}
	d.ctr("run", "-d", "--runtime", "runc", ref, "img-gc", "sleep", "100").must(t)
	if n := countMounts(t, d.dir); n != 1 {
		t.Fatalf("want the running container's rootfs mounted once under %s, got %d mounts", d.dir, n)
	}
	d.ctr("images", "rm", "--sync", ref).must(t)
	if out := d.ctr("snapshots", "ls").must(t); !strings.Contains(out, "img-gc") {
		t.Fatalf("the running container's snapshot was collected: %q", out)
	}
	if out := d.ctr("tasks", "exec", "--exec-id", "e1", "img-gc", "cat", "/etc/group").must(t); !strings.Contains(out, "user:x:1000") {
		t.Fatalf("the container's rootfs lost its files: %q", out)
	}
	d.ctr("tasks", "kill", "-s", "SIGKILL", "img-gc").must(t)
	waitStopped(t, d, "img-gc")
	d.ctr("tasks", "rm", "img-gc").must(t)
	d.ctr("containers", "rm", "img-gc").must(t)
	time.Sleep(200 * time.Millisecond) // the collection after a delete is asynchronous
	if n := countMounts(t, d.dir); n != 0 {
		t.Fatalf("%d mounts left under %s", n, d.dir)
	}
	if out := d.ctr("snapshots", "ls").must(t); strings.Count(out, "\n") > 1 {
		t.Fatalf("snapshots left: %q", out)
	}
	for _, dir := range []string{"content/blobs/sha256", "snapshots/overlayfs/snapshots"} {
		if n := countFiles(t, filepath.Join(d.Root(), "images", dir)); n != 0 {
			t.Fatalf("%d files left under %s", n, dir)
		}
	}
}

func waitStopped(t *testing.T, d *daemon, id string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if out := d.ctr("tasks", "ls").must(t); !strings.Contains(out, id) || strings.Contains(out, "STOPPED") {
			return
		}
	}
	t.Fatalf("task %s did not stop", id)
}

// countMounts counts the mounts under dir.
func countMounts(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			n++
		}
	}
	return n
}

// countFiles counts the files and directories under dir, dir itself not included.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := -1
	err := filepath.Walk(dir, func(string, os.FileInfo, error) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}
