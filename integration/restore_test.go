package integration

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/corral-dev/corral/shim"
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
			d.kill()
			// Let "quits" exit while corrald is down: its keeper records the status.
			exitFile := filepath.Join(d.State(), "default", "quits", shim.ExitFile)
			deadline := time.Now().Add(30 * time.Second)
			for _, err := os.Stat(exitFile); err != nil; _, err = os.Stat(exitFile) {
				if time.Now().After(deadline) {
					t.Fatalf("container did not exit while corrald was down: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
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
