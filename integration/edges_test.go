package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunscStockConfig: runsc runs with no [runtimes.runsc] table, and says it cannot update
// resources instead of printing its usage.
func TestRunscStockConfig(t *testing.T) {
	d := startDaemon(t, "")
	d.kill()
	b, err := os.ReadFile(d.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "[runtimes.runsc]\nruntime_args = [\"--platform=ptrace\"]\n", "", 1)
	if cfg == string(b) {
		t.Fatal("config has no [runtimes.runsc] to remove")
	}
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()
	if r := d.corral("run", "--rm", "--runtime", "runsc", "--rootfs", rootfs, "r11-runsc", "sh", "-c", "echo hi; exit 3"); r.code != 3 || r.stdout != "hi\n" {
		t.Errorf("runsc on a stock config: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	d.corral("run", "-d", "--fifo-dir", filepath.Join(d.dir, "fifo"), "--runtime", "runsc", "--rootfs", rootfs, "r11-runsc-up", "sleep", "1000").must(t)
	r := d.corral("tasks", "update", "--memory", "64m", "r11-runsc-up")
	if r.code == 0 || !strings.Contains(r.stderr, "runtime runsc cannot update resources: not implemented") || strings.Contains(r.stderr, "Usage") {
		t.Errorf("update on runsc: exit %d, stderr %q", r.code, r.stderr)
	}
	d.corral("rm", "-f", "r11-runsc-up").must(t)
	d.assertGone(t, "r11-runsc-up")
}

// TestShimV2Edges: a /tasks/exit event carries the init's pid, and an exec gets the default PATH
// like the init, when ctr sends no environment.
func TestShimV2Edges(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range []string{"io.containerd.runc.v2", "runc"} {
		id := "r11-edge-" + short(rt)
		events := d.startCorral("events", "--filter", `topic=="/tasks/exit",event.id=="`+id+`"`) // the init's

		time.Sleep(200 * time.Millisecond) // the subscription registers
		d.ctr("run", "-d", "--runtime", rt, "--rootfs", rootfs, id, "sleep", "1000").must(t)
		if out := d.ctr("tasks", "exec", "--exec-id", "e1", id, "sh", "-c", "echo $PATH").must(t); !strings.Contains(out, "/usr/bin") {
			t.Errorf("%s: exec PATH %q, want the default one", rt, out)
		}
		pid := d.taskPid(t, id, "RUNNING")
		d.corral("tasks", "kill", "-s", "KILL", id).must(t)
		select {
		case l := <-events.lines:
			if !strings.Contains(l, fmt.Sprintf(`"pid":%d`, pid)) {
				t.Errorf("%s: exit event %s, want pid %d", rt, l, pid)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no exit event", rt)
		}
		d.wait(t, id)
		d.corral("rm", id).must(t)
		d.assertGone(t, id)
	}
}
