package integration

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
)

// TestPromptExit: an exit is reported once the init is reaped and its output drained, not after
// io_drain, which is set far above how long the test waits: for a task killed before it started,
// and for an init killed while a child it left behind still holds its output.
func TestPromptExit(t *testing.T) {
	d := startDaemon(t, "[timeouts]\nio_drain = \"30s\"\n")
	// prompt fails the test unless the exit arrives well within io_drain.
	prompt := func(t *testing.T, id string, since time.Time, want uint32) {
		t.Helper()
		if got := d.wait(t, id); got != want {
			t.Errorf("exit status %d, want %d", got, want)
		}
		if took := time.Since(since); took > 10*time.Second {
			t.Errorf("exit took %s: the keeper waited for io_drain", took)
		}
	}
	for _, rt := range runtimes {
		t.Run(rt.name, func(t *testing.T) {
			d.t = t
			dir := t.TempDir()
			var fifos [3]string
			for i, name := range []string{"stdin", "stdout", "stderr"} {
				fifos[i] = filepath.Join(dir, name)
				if err := syscall.Mkfifo(fifos[i], 0o600); err != nil {
					t.Fatal(err)
				}
				// A client holds its FIFOs open for reading, as shims expect.
				f, err := os.OpenFile(fifos[i], os.O_RDONLY|syscall.O_NONBLOCK, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
			}
			if err := d.createSpecOn(t, "px1", rt.name, lcrSpec("exit 3", dir), fifos[0], fifos[1], fifos[2]); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			ctx, cancel := context.WithTimeout(nsCtx("default"), 30*time.Second)
			defer cancel()
			if _, err := tasksapi.NewTasksClient(d.grpcConn()).Kill(ctx, &tasksapi.KillRequest{ContainerID: "px1", Signal: 9}); err != nil {
				t.Fatalf("kill of a created task: %v", err)
			}
			prompt(t, "px1", start, 137)
			d.corral("tasks", "rm", "px1").must(t)
			d.corral("containers", "rm", "px1").must(t)

			d.corral("run", "-d", "--log-driver", "none", "--runtime", rt.name, "--rootfs", rootfs, "px2", "sh", "-c", "sleep 100 & exec sleep 200").must(t)
			pid := d.taskPid(t, "px2", "RUNNING")
			start = time.Now()
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			prompt(t, "px2", start, 137)
			d.corral("containers", "rm", "px2").must(t)
			d.assertGone(t, "px1")
			d.assertGone(t, "px2")
		})
	}
}
