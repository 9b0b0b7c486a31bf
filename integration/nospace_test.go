package integration

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// onSmallFS restarts corrald with its root and state on one tmpfs of the given size, unmounted at
// the end of the test once corrald and its containers are gone.
func (d *daemon) onSmallFS(t *testing.T, size string) {
	t.Helper()
	d.kill()
	state := filepath.Join(d.Root(), ".state")
	for _, args := range [][]string{
		{"-t", "tmpfs", "-o", "size=" + size, "tmpfs", d.Root()},
		{"--bind", state, d.State()},
	} {
		if args[0] == "--bind" {
			if err := os.Mkdir(state, 0o711); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
			t.Fatalf("mount %v: %v: %s", args, err, out)
		}
	}
	t.Cleanup(func() {
		d.kill()
		d.cleanupContainers()
		for _, dir := range []string{d.State(), d.Root()} {
			if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v: %s", dir, err, out)
			}
		}
	})
	d.start()
}

// fill grows or shrinks a filler file on the filesystem of dir until free bytes are left.
func fill(t *testing.T, dir string, free int64) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "filler"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	size := max(0, fi.Size()+int64(st.Bavail)*st.Bsize-free)
	if size <= fi.Size() {
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		return
	}
	chunk := make([]byte, 1<<20)
	for at := fi.Size(); at < size; {
		n, err := f.WriteAt(chunk[:min(int64(len(chunk)), size-at)], at)
		if errors.Is(err, syscall.ENOSPC) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		at += int64(n)
	}
}

// TestNoSpace runs `run -d` with 0 to 100 KiB left on the filesystem of corrald's root and state,
// so that each write of a create in turn fails: a failure says the device is full, leaves no keeper,
// shim or runtime process, and a container it leaves listed can be removed once there is room; the
// same id then works.
func TestNoSpace(t *testing.T) {
	d := startDaemon(t, "")
	d.onSmallFS(t, "16m")
	for _, rt := range []string{"runc", "lcr", "io.containerd.runc.v2"} {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			failed := 0
			for free := int64(100 << 10); free >= 0; free -= 4 << 10 {
				id := "i8-nospace"
				fill(t, d.Root(), free)
				r := d.corral("run", "-d", "--runtime", rt, "--rootfs", rootfs, id, "sleep", "1000")
				if r.code != 0 {
					failed++
					t.Logf("%d KiB free: %s", free>>10, strings.TrimSpace(r.stderr))
					if !strings.Contains(r.stderr, "no space left on device") {
						t.Errorf("%d KiB free: run -d failed without saying the device is full: %s", free>>10, r.stderr)
					}
					for _, p := range leftProcesses(d.Bundle("default", id), "-id\x00"+id+"\x00") {
						t.Errorf("%d KiB free: process left by the failed create: %s", free>>10, p)
					}
				}
				fill(t, d.Root(), 8<<20)
				d.removeAll(t, id)
				if r.code != 0 {
					d.corral("run", "-d", "--runtime", rt, "--rootfs", rootfs, id, "sleep", "1000").must(t)
					d.removeAll(t, id)
				}
				d.assertNothingLeft(t, id)
			}
			t.Logf("%s: %d of 26 creates failed for want of space", rt, failed)
		})
	}
}
