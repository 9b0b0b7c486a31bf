package integration

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRestoreAfterCrash kills corrald with SIGKILL while one container runs and another exits, then
// checks that the restarted corrald knows both with their real pid and exit status.
func TestRestoreAfterCrash(t *testing.T) {
	for _, rt := range runtimes {
		t.Run(rt.name, func(t *testing.T) {
			d := startDaemon(t, "")
			d.corral("run", "-d", "--runtime", rt.name, "--rootfs", rootfs, "live", "sleep", "1000").must(t)
			d.corral("run", "-d", "--runtime", rt.name, "--rootfs", rootfs, "quits", "sh", "-c", "sleep 1; exit 42").must(t)
			pid := d.taskPid(t, "live", "RUNNING")
			quits := d.taskPid(t, "quits", "RUNNING")
			d.kill()
			// Let "quits" exit while corrald is down: its keeper or shim records the status.
			deadline := time.Now().Add(30 * time.Second)
			for alive(quits) {
				if time.Now().After(deadline) {
					t.Fatalf("container did not exit while corrald was down")
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond) // let the keeper finish recording
			d.start()
			if got := d.taskPid(t, "live", "RUNNING"); got != pid {
				t.Errorf("restored pid %d, want %d", got, pid)
			}
			if got := d.wait(t, "quits"); got != 42 {
				t.Errorf("exit status of the container that exited while corrald was down: %d, want 42", got)
			}
			d.corral("tasks", "kill", "-s", "KILL", "live").must(t)
			if got := d.wait(t, "live"); got != 137 {
				t.Errorf("exit status after restore and SIGKILL: %d, want 137", got)
			}
			d.corral("containers", "rm", "live", "quits").must(t)
			d.assertGone(t, "live")
			d.assertGone(t, "quits")
		})
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// TestRestoreRemovedRuntimeName restarts corrald without the configured name a running container
// was created with: the container must still be known, killable and removable.
func TestRestoreRemovedRuntimeName(t *testing.T) {
	d := startDaemon(t, "")
	d.corral("run", "-d", "--runtime", "my-runc", "--rootfs", rootfs, "orphan", "sleep", "1000").must(t)
	pid := d.taskPid(t, "orphan", "RUNNING")
	d.kill()
	b, err := os.ReadFile(d.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "[runtimes.my-runc]\npath = \"/usr/sbin/runc\"\n", "", 1)
	if cfg == string(b) {
		t.Fatal("config has no [runtimes.my-runc] to remove")
	}
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()
	if got := d.taskPid(t, "orphan", "RUNNING"); got != pid {
		t.Errorf("restored pid %d, want %d", got, pid)
	}
	if r := d.corral("run", "--rm", "--runtime", "my-runc", "--rootfs", rootfs, "new", "true"); r.code == 0 {
		t.Errorf("a new container with the removed name was accepted")
	}
	d.corral("tasks", "kill", "-s", "KILL", "orphan").must(t)
	if got := d.wait(t, "orphan"); got != 137 {
		t.Errorf("exit %d, want 137", got)
	}
	d.corral("containers", "rm", "orphan").must(t)
	d.assertGone(t, "orphan")
}
