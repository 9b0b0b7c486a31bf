package integration

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOutputDrained checks that a foreground run or exec prints all of its process's output to a
// reader that starts reading only 3 s after the exit, on every family.
func TestOutputDrained(t *testing.T) {
	d := startDaemon(t, "")
	corral := shellQuote([]string{filepath.Join(bins, "corral"), "--address", d.Address()})
	for _, rt := range runtimes {
		t.Run(rt.name, func(t *testing.T) {
			d.t = t
			d.removeOnFailure(t, "cli-drain-x")
			d.corral("run", "-d", "--runtime", rt.name, "--rootfs", rootfs, "cli-drain-x", "sleep", "1000").must(t)
			for _, tc := range []struct{ name, cmd string }{
				{"run", "run --rm --runtime " + rt.name + " --rootfs " + shellQuote([]string{rootfs}) + " cli-drain-run"},
				{"exec", "tasks exec cli-drain-x"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					line := corral + " " + tc.cmd + " sh -c 'head -c 100000 /dev/zero' | (sleep 3; wc -c)"
					out, err := exec.CommandContext(ctx, "sh", "-c", line).CombinedOutput()
					if got := strings.TrimSpace(string(out)); err != nil || got != "100000" {
						t.Errorf("%s printed %q (%v), want 100000", line, got, err)
					}
				})
			}
			d.corral("tasks", "kill", "-s", "KILL", "cli-drain-x").must(t)
			d.wait(t, "cli-drain-x")
			d.corral("containers", "rm", "cli-drain-x").must(t)
			d.assertGone(t, "cli-drain-x")
			d.assertGone(t, "cli-drain-run")
		})
	}
}
