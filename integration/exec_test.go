package integration

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestExec(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range runtimes {
		t.Run(rt.name, func(t *testing.T) {
			d.t = t
			d.removeOnFailure(t, "x1")
			d.corral("run", "-d", "--runtime", rt.name, "--rootfs", rootfs, "--env", "BASE=1", "--cwd", "/dev", "x1", "sleep", "1000").must(t)

			r := d.corral("tasks", "exec", "--exec-id", "fg", "x1", "sh", "-c", "echo out; echo err >&2; exit 5")
			if r.code != 5 || r.stdout != "out\n" || r.stderr != "err\n" {
				t.Fatalf("got exit %d stdout %q stderr %q, want 5 %q %q", r.code, r.stdout, r.stderr, "out\n", "err\n")
			}
			if _, err := d.execStatus(t, "x1", "fg"); status.Code(err) != codes.NotFound {
				t.Errorf("foreground exec not deleted once exited: Tasks.Get gives %v", err)
			}
			if out := d.corral("tasks", "exec", "x1", "sh", "-c", "echo $BASE; pwd").must(t); out != "1\n/dev\n" {
				t.Errorf("exec without flags printed %q, want the container's env and cwd %q", out, "1\n/dev\n")
			}
			out := d.corral("tasks", "exec", "--env", "FOO=bar", "--cwd", "/tmp", "x1", "sh", "-c", "echo $BASE $FOO; pwd").must(t)
			if out != "1 bar\n/tmp\n" {
				t.Errorf("exec --env FOO=bar --cwd /tmp printed %q, want %q", out, "1 bar\n/tmp\n")
			}
			// The start fails (runc, runsc, shim v2: exit 1) or the process does (lcr: exit 127).
			if r := d.corral("tasks", "exec", "x1", "/nonexistent"); r.code == 0 || !strings.Contains(strings.ToLower(r.stderr), "no such file or directory") {
				t.Errorf("exec of a missing binary: exit %d stderr %q, want the runtime's error", r.code, r.stderr)
			}
			if r := d.corral("tasks", "exec", "nope", "true"); r.code != 1 || !strings.Contains(r.stderr, `container "nope"`) || !strings.Contains(r.stderr, "not found") {
				t.Errorf("exec in a missing container: exit %d stderr %q", r.code, r.stderr)
			}

			t.Run("stdin", func(t *testing.T) {
				d.t = t
				if r := d.corralIn("hello\n", "tasks", "exec", "x1", "cat"); r.code != 0 || r.stdout != "hello\n" {
					t.Errorf("exec cat with stdin: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
				}
				// All of a large input arrives before stdin closes.
				big := strings.Repeat("0123456789abcdef", 1<<16)
				if r := d.corralIn(big, "tasks", "exec", "x1", "wc", "-c"); r.code != 0 || strings.TrimSpace(r.stdout) != strconv.Itoa(len(big)) {
					t.Errorf("exec wc -c of %d bytes: exit %d stdout %q stderr %q", len(big), r.code, r.stdout, r.stderr)
				}
			})
			t.Run("signal", func(t *testing.T) {
				d.t = t
				fg := d.startCorral("tasks", "exec", "x1", "sh", "-c", "trap 'exit 9' TERM; echo ready; while true; do sleep 0.1; done")
				fg.waitLine(t, "ready")
				if err := fg.cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				if code := fg.exitWithin(t, 30*time.Second); code != 9 {
					t.Errorf("corral tasks exec exited %d after SIGTERM trapped to exit 9, want 9", code)
				}
			})
			d.t = t

			deadline := time.Now().Add(time.Minute)
			for i := range 20 {
				if r := d.corral("tasks", "exec", "x1", "true"); r.code != 0 {
					t.Fatalf("exec %d of true: exit %d stderr %q", i, r.code, r.stderr)
				}
				if time.Now().After(deadline) {
					t.Fatalf("only %d execs of true within a minute", i+1)
				}
			}

			// A detached exec prints nothing and is kept: it runs until the container stops.
			r = d.corral("tasks", "exec", "-d", "--exec-id", "bg", "x1", "sh", "-c", "echo bg > /dev/shm/bg; exec sleep 1000")
			if r.code != 0 || r.stdout != "" || r.stderr != "" {
				t.Fatalf("exec -d: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
			}
			d.poll(t, "x1", "/dev/shm/bg", func(s string) bool { return s == "bg" })
			if st, err := d.execStatus(t, "x1", "bg"); err != nil || st != "RUNNING" {
				t.Errorf("detached exec: Tasks.Get gives %q, %v; want RUNNING", st, err)
			}

			d.corral("tasks", "kill", "-s", "KILL", "x1").must(t)
			if got := d.wait(t, "x1"); got != 137 {
				t.Fatalf("exit status %d after SIGKILL, want 137", got)
			}
			d.corral("containers", "rm", "x1").must(t)
			d.assertGone(t, "x1")
		})
	}
}

func TestExecPauseResume(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range runtimes {
		t.Run(rt.name, func(t *testing.T) {
			d.t = t
			// /dev/shm is a tmpfs of the container's own, unlike the rootfs every test shares.
			d.removeOnFailure(t, "p1")
			d.corral("run", "-d", "--runtime", rt.name, "--rootfs", rootfs, "p1", "sh", "-c",
				"i=0; while true; do i=$((i+1)); echo $i > /dev/shm/count; sleep 0.05; done").must(t)
			d.poll(t, "p1", "/dev/shm/count", func(s string) bool { n, err := strconv.Atoi(s); return err == nil && n >= 3 })

			// The loop steps at most every 50ms while it runs: between the two reads only during
			// the pause and resume commands around the paused second.
			t0 := time.Now()
			before := d.count(t, "p1")
			d.corral("tasks", "pause", "p1").must(t)
			running := time.Since(t0)
			d.taskPid(t, "p1", "PAUSED")
			if r := d.corral("tasks", "exec", "p1", "true"); r.code != 1 || !strings.Contains(r.stderr, "paused") {
				t.Errorf("exec in a paused task: exit %d stderr %q, want an error saying it is paused", r.code, r.stderr)
			}
			time.Sleep(time.Second) // 20 steps if the loop were running
			t1 := time.Now()
			d.corral("tasks", "resume", "p1").must(t)
			after := d.count(t, "p1")
			running += time.Since(t1)
			if limit := 3 + int(running/(50*time.Millisecond)); after-before > limit {
				t.Errorf("counter went from %d to %d across a 1s pause; the %v outside it allow %d steps", before, after, running, limit)
			}
			d.taskPid(t, "p1", "RUNNING")
			d.poll(t, "p1", "/dev/shm/count", func(s string) bool { n, err := strconv.Atoi(s); return err == nil && n > after+2 })

			d.corral("tasks", "kill", "-s", "KILL", "p1").must(t)
			if got := d.wait(t, "p1"); got != 137 {
				t.Fatalf("exit status %d after SIGKILL, want 137", got)
			}
			d.corral("containers", "rm", "p1").must(t)
			d.assertGone(t, "p1")
		})
	}
}

// execStatus returns the status Tasks.Get gives exec execID of task id.
func (d *daemon) execStatus(t *testing.T, id, execID string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(nsCtx("default"), 10*time.Second)
	defer cancel()
	resp, err := tasksapi.NewTasksClient(d.grpcConn()).Get(ctx, &tasksapi.GetRequest{ContainerID: id, ExecID: execID})
	if err != nil {
		return "", err
	}
	return resp.Process.Status.String(), nil
}

// count reads the counter of the pause test through an exec, again while the loop is rewriting it.
func (d *daemon) count(t *testing.T, id string) int {
	t.Helper()
	var out string
	for range 10 {
		out = d.corral("tasks", "exec", id, "cat", "/dev/shm/count").must(t)
		if n, err := strconv.Atoi(strings.TrimSpace(out)); err == nil {
			return n
		}
	}
	t.Fatalf("counter %q", out)
	return 0
}

// exitWithin waits up to timeout for the invocation to end and returns its exit code.
func (b *background) exitWithin(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-b.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		t.Fatalf("corral did not exit within %v", timeout)
		return -1
	}
}

// removeOnFailure kills and deletes container id at the end of a failed test, so that the runtimes
// after it start clean.
func (d *daemon) removeOnFailure(t *testing.T, id string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		corral := func(args ...string) error {
			return exec.Command(filepath.Join(bins, "corral"), append([]string{"--address", d.Address()}, args...)...).Run()
		}
		_ = corral("tasks", "kill", "-s", "KILL", id)
		for range 50 {
			if corral("containers", "rm", id) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// poll reads file in container id through execs until ok accepts its trimmed content, for up to 10s.
func (d *daemon) poll(t *testing.T, id, file string, ok func(string) bool) {
	t.Helper()
	var last result
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if last = d.corral("tasks", "exec", id, "cat", file); last.code == 0 && ok(strings.TrimSpace(last.stdout)) {
			return
		}
	}
	t.Fatalf("%s in %s: last read exit %d stdout %q stderr %q", file, id, last.code, last.stdout, last.stderr)
}
