package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
)

// runtimes is the suite every runtime family runs: each name is a real runtime on this host.
var runtimes = []struct{ name, family string }{
	{"lcr", "lcr"},
	{"runc", "shim v1"},
	{"runsc", "shim v1"},
	{"my-runc", "shim v1"},
	{"io.containerd.runc.v2", "shim v2"},
}

func TestRunRemoveStreamsAndExitCode(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range runtimes {
		t.Run(rt.name, func(t *testing.T) {
			d.t = t
			r := d.corral("run", "--rm", "--runtime", rt.name, "--rootfs", rootfs, "c1", "sh", "-c", "echo out; echo err >&2; exit 3")
			if r.code != 3 || r.stdout != "out\n" || r.stderr != "err\n" {
				t.Fatalf("got exit %d stdout %q stderr %q, want 3 %q %q", r.code, r.stdout, r.stderr, "out\n", "err\n")
			}
			d.assertGone(t, "c1")
		})
	}
}

func TestDetachedKill(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range runtimes {
		t.Run(rt.name, func(t *testing.T) {
			d.t = t
			d.corral("run", "-d", "--runtime", rt.name, "--rootfs", rootfs, "d1", "sleep", "1000").must(t)
			pid := d.taskPid(t, "d1", "RUNNING")
			if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
				t.Fatalf("task pid %d is not a live process: %v", pid, err)
			}
			ps := d.corral("tasks", "ps", "d1").must(t)
			if !strings.Contains(ps, strconv.Itoa(pid)) && rt.name != "runsc" { // runsc reports sandbox-internal pids
				t.Errorf("tasks ps does not list init pid %d:\n%s", pid, ps)
			}
			if out := d.ctr("tasks", "metrics", "d1").must(t); !strings.Contains(out, "pids.current") {
				t.Errorf("ctr t metrics shows no cgroup metrics:\n%s", out)
			}
			d.corral("tasks", "kill", "-s", "KILL", "d1").must(t)
			if got := d.wait(t, "d1"); got != 137 {
				t.Fatalf("exit status %d after SIGKILL, want 137", got)
			}
			d.corral("containers", "rm", "d1").must(t)
			d.assertGone(t, "d1")

			// A plain kill sends SIGTERM, which this shell traps to exit 7. Run it in the foreground
			// to learn from its stdout when the trap is installed.
			fg := d.startCorral("run", "--rm", "--runtime", rt.name, "--rootfs", rootfs, "d2", "sh", "-c",
				"trap 'exit 7' TERM; echo ready; while true; do sleep 0.1; done")
			fg.waitLine(t, "ready")
			d.corral("tasks", "kill", "d2").must(t)
			if code := fg.exitCode(t); code != 7 {
				t.Fatalf("corral run exited %d after SIGTERM trapped to exit 7, want 7", code)
			}
			d.assertGone(t, "d2")
		})
	}
}

// taskPid returns the pid `tasks ls` shows for id and checks its status.
func (d *daemon) taskPid(t *testing.T, id, status string) int {
	t.Helper()
	for _, line := range strings.Split(d.corral("tasks", "ls").must(t), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == id {
			if f[2] != status {
				t.Fatalf("task %s is %s, want %s", id, f[2], status)
			}
			pid, err := strconv.Atoi(f[1])
			if err != nil || pid <= 0 {
				t.Fatalf("task %s has pid %q", id, f[1])
			}
			return pid
		}
	}
	t.Fatalf("task %s not listed", id)
	return 0
}

// runningPid is taskPid for a task whose start was asked for and may not be recorded yet: its
// output can reach a client before corrald records the start it answered. It waits up to 10 s.
func (d *daemon) runningPid(t *testing.T, id string) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if running := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(id) + `\s+\d+\s+RUNNING\b`); running.MatchString(d.corral("tasks", "ls").must(t)) {
			break
		}
	}
	return d.taskPid(t, id, "RUNNING")
}

// wait returns the task's exit status through Tasks.Wait.
func (d *daemon) wait(t *testing.T, id string) uint32 {
	t.Helper()
	return d.waitIn(t, "default", id)
}

// waitIn is wait in namespace ns.
func (d *daemon) waitIn(t *testing.T, ns, id string) uint32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(nsCtx(ns), 30*time.Second)
	defer cancel()
	resp, err := tasksapi.NewTasksClient(d.grpcConn()).Wait(ctx, &tasksapi.WaitRequest{ContainerID: id})
	if err != nil {
		t.Fatalf("wait %s: %v", id, err)
	}
	return resp.ExitStatus
}

// assertGone checks nothing of container id is left: metadata, bundle, work dir, keeper, runtime state.
func (d *daemon) assertGone(t *testing.T, id string) {
	t.Helper()
	if out := d.corral("containers", "ls").must(t); strings.Contains(out, id) {
		t.Errorf("container %s still listed:\n%s", id, out)
	}
	if out := d.corral("tasks", "ls").must(t); strings.Contains(out, id) {
		t.Errorf("task %s still listed:\n%s", id, out)
	}
	if p := d.Bundle("default", id); !isGone(p) {
		t.Errorf("bundle %s still exists", p)
	}
	// The keeper or shim v2 process, and its socket.
	if out, _ := exec.Command("pgrep", "-f", "--", "-namespace default -id "+id+" -address "+d.Address()).Output(); len(out) > 0 {
		t.Errorf("keeper or shim of %s still runs: pid %s", id, out)
	}
	socks, _ := filepath.Glob(filepath.Join(d.State(), "s", "*"))
	if len(socks) > 0 {
		t.Errorf("keeper sockets left: %v", socks)
	}
	if _, err := os.Stat(filepath.Join("/run/containerd/runc/default", id)); !os.IsNotExist(err) {
		t.Errorf("runc state of %s left by the shim (%v)", id, err)
	}
}

func isGone(path string) bool {
	_, err := os.Stat(path)
	return os.IsNotExist(err)
}
