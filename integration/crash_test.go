package integration

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowRunc stands in for runc: it sleeps before create, start and delete, so that a crash of
// corrald lands in the middle of them.
const slowRunc = `#!/bin/sh
for a in "$@"; do
	case "$a" in create|start|delete) sleep 0.4; break ;; esac
done
exec /usr/sbin/runc "$@"
`

// slowTool stands in for an LXC tool that runs a container: it sleeps first.
const slowTool = `#!/bin/sh
sleep 0.4
exec /usr/bin/TOOL "$@"
`

// TestCrashDuringRunDetached kills corrald with SIGKILL at random points of `run -d` on every
// family, with runtimes that sleep in create, start and delete: after the restart every container is
// listed with a state that holds, or gone; nothing is left once it is removed, and its id is reusable.
func TestCrashDuringRunDetached(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("runc", slowRunc) // shim v2's runc too: the shim finds runc on the PATH corrald gives it
	for _, tool := range []string{"lxc-execute", "lxc-attach", "lxc-info", "lxc-freeze", "lxc-unfreeze", "lxc-cgroup"} {
		write(tool, strings.ReplaceAll(slowTool, "TOOL", tool))
	}
	d := startDaemonEnv(t, "[runtimes.slow]\npath = \""+filepath.Join(dir, "runc")+"\"\n",
		[]string{"PATH=" + dir + ":" + os.Getenv("PATH")})
	for _, rt := range []string{"slow", "lcr", "io.containerd.runc.v2"} {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			for i := range 10 {
				id := "crash" + strconv.Itoa(i)
				cmd := exec.Command(filepath.Join(bins, "corral"), "--address", d.Address(), "run", "-d", "--log-driver", "none",
					"--runtime", rt, "--rootfs", rootfs, id, "sleep", "1000")
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond)
				d.restart()
				_ = cmd.Wait()
				d.checkSettled(t, id)
				d.removeAll(t, id)
				d.assertGone(t, id)
				d.corral("run", "--rm", "--runtime", rt, "--rootfs", rootfs, id, "true").must(t)
			}
		})
	}
}

// checkSettled fails unless container id is gone or listed with a task state that holds: a running
// task's pid is alive, so is a created one's unless it has none yet (lcr), and no task is left
// half-created.
func (d *daemon) checkSettled(t *testing.T, id string) {
	t.Helper()
	for _, line := range strings.Split(d.corral("tasks", "ls").must(t), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != id {
			continue
		}
		switch f[2] {
		case "CREATED":
			if f[1] == "0" {
				break // lcr: LXC's init runs only at start
			}
			fallthrough
		case "RUNNING":
			if _, err := os.Stat("/proc/" + f[1]); err != nil {
				t.Errorf("task %s is %s with pid %s, which does not exist", id, f[2], f[1])
			}
		case "STOPPED":
		default:
			t.Errorf("task %s is left %s after the restart", id, f[2])
		}
	}
}

// removeAll removes container id and its task, whatever their state.
func (d *daemon) removeAll(t *testing.T, id string) {
	t.Helper()
	if !strings.Contains(d.corral("containers", "ls").must(t), id) {
		return
	}
	if r := d.corral("rm", "-f", id); r.code != 0 {
		t.Errorf("rm -f %s: %s", id, r.stderr)
	}
}

// TestKeeperKilled: when a keeper dies, its container is taken down before the task reads stopped;
// then the task can be removed and nothing is left.
func TestKeeperKilled(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range []string{"runc", "runsc", "lcr"} {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			d.corral("run", "-d", "--runtime", rt, "--rootfs", rootfs, "kk1", "sleep", "1000").must(t)
			pid := d.taskPid(t, "kk1", "RUNNING")
			out, err := exec.Command("pgrep", "-f", "--", "-namespace default -id kk1 -address "+d.Address()).Output()
			keeper, _ := strconv.Atoi(strings.TrimSpace(string(out)))
			if err != nil || keeper == 0 {
				t.Fatalf("no keeper found: %q, %v", out, err)
			}
			if err := syscall.Kill(keeper, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				ls := d.corral("tasks", "ls").must(t)
				if strings.Contains(ls, "STOPPED") {
					if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && !bytes.Contains(b, []byte(") Z ")) {
						t.Fatalf("task reads STOPPED while its init %d still runs", pid)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("task not stopped 30 s after its keeper was killed:\n%s", ls)
				}
			}
			if got := d.wait(t, "kk1"); got != 137 {
				t.Errorf("exit status %d after the keeper was killed, want 137 (the container was killed)", got)
			}
			d.corral("containers", "rm", "kk1").must(t)
			d.assertGone(t, "kk1")
		})
	}
}
