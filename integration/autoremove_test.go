package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunRmClientKilled: corrald removes the container of a killed `corral run --rm` once its task
// exits, with its FIFOs; also when the task exits while corrald is down.
func TestRunRmClientKilled(t *testing.T) {
	d := startDaemon(t, supervised)
	fifos := filepath.Join(d.dir, "fifo")
	for _, crash := range []bool{false, true} {
		id := map[bool]string{false: "r11-rm", true: "r11-rm-crash"}[crash]
		fg := d.startCorral("run", "--rm", "--fifo-dir", fifos, "--runtime", "runc", "--rootfs", rootfs, id, "sh", "-c", "echo ready; sleep 1000")
		fg.waitLine(t, "ready")
		pid := d.runningPid(t, id)
		_ = fg.cmd.Process.Kill()
		fg.exitCode(t)
		if crash {
			d.kill()
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
		if crash {
			for deadline := time.Now().Add(30 * time.Second); alive(pid); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("init did not die")
				}
			}
			d.start()
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if !strings.Contains(d.corral("containers", "ls").must(t), id) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("container %s of a killed corral run --rm not removed (crash: %t)", id, crash)
			}
		}
		d.assertGone(t, id)
		if left, _ := filepath.Glob(filepath.Join(fifos, "default", id+"-*")); len(left) > 0 {
			t.Errorf("FIFOs left: %v", left)
		}
	}
	// The client still removes what it runs, and tolerates corrald having removed it first.
	r := d.corral("run", "--rm", "--runtime", "runc", "--rootfs", rootfs, "r11-rm-fg", "sh", "-c", "echo hi; exit 3")
	if r.code != 3 || r.stdout != "hi\n" {
		t.Errorf("corral run --rm: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	d.assertGone(t, "r11-rm-fg")
	// Detached, it is corrald's to remove.
	d.corral("run", "-d", "--rm", "--fifo-dir", fifos, "--runtime", "runc", "--rootfs", rootfs, "r11-rm-d", "sh", "-c", "sleep 0.5").must(t)
	for deadline := time.Now().Add(30 * time.Second); strings.Contains(d.corral("containers", "ls").must(t), "r11-rm-d"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("container of corral run -d --rm not removed")
		}
	}
	d.assertGone(t, "r11-rm-d")
	if left, _ := os.ReadDir(filepath.Join(fifos, "default")); len(left) > 0 {
		t.Errorf("FIFO dirs left: %v", left)
	}
}
