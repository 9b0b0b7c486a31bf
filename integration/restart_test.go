package integration

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"
)

// supervised configures short restart back-offs and auto-removes.
const supervised = "[restart]\nbackoff = \"50ms\"\nmax_backoff = \"200ms\"\n[timeouts]\nauto_remove = \"500ms\"\n"

// lsTask is a task as `corral tasks ls --format json` prints it.
type lsTask struct {
	ID         string `json:"id"`
	Pid        int    `json:"pid"`
	Status     string `json:"status"`
	ExitStatus uint32 `json:"exit_status"`
	Restarts   int    `json:"restarts"`
}

// tasks returns the tasks `corral tasks ls` lists, by id.
func (d *daemon) tasks(t *testing.T) map[string]lsTask {
	t.Helper()
	var list []lsTask
	if err := json.Unmarshal([]byte(d.corral("tasks", "ls", "--format", "json").must(t)), &list); err != nil {
		t.Fatal(err)
	}
	m := map[string]lsTask{}
	for _, l := range list {
		m[l.ID] = l
	}
	return m
}

// until polls `tasks ls` until task id is listed with status and restarts, and returns it.
func (d *daemon) until(t *testing.T, id, status string, restarts int) lsTask {
	t.Helper()
	var got lsTask
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = d.tasks(t)[id]; got.Status == status && got.Restarts == restarts {
			return got
		}
	}
	t.Fatalf("task %s is %+v, want %s after %d restarts", id, got, status, restarts)
	return got
}

// TestRestartOnFailure: on-failure:3 restarts a failing task exactly 3 times, on every family.
func TestRestartOnFailure(t *testing.T) {
	d := startDaemon(t, supervised)
	for _, rt := range []string{"lcr", "runc", "io.containerd.runc.v2"} {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			id := "r11-of-" + short(rt)
			events := d.startCorral("events", "--filter", `topic=="/tasks/start",event.container_id=="`+id+`"`)
			time.Sleep(200 * time.Millisecond) // the subscription registers
			d.corral("run", "-d", "--restart", "on-failure:3", "--runtime", rt, "--rootfs", rootfs, id, "sh", "-c", "exit 1").must(t)
			d.until(t, id, "STOPPED", 3)
			time.Sleep(time.Second) // several back-offs: no fourth restart
			if got := d.tasks(t)[id]; got.Status != "STOPPED" || got.ExitStatus != 1 || got.Restarts != 3 {
				t.Errorf("task %+v, want stopped with 1 after 3 restarts", got)
			}
			starts := 0
			for drained := false; !drained; {
				select {
				case <-events.lines:
					starts++
				case <-time.After(500 * time.Millisecond):
					drained = true
				}
			}
			if starts != 4 {
				t.Errorf("%d /tasks/start events, want the first start and 3 restarts", starts)
			}
			if out := d.corral("containers", "info", id).must(t); !strings.Contains(out, `"io.corral.restart.count": "3"`) {
				t.Errorf("containers info shows no restart count of 3:\n%s", out)
			}
			d.corral("rm", id).must(t)
			d.assertGone(t, id)
		})
	}
}

// TestRestartAlways: "always" restarts after kill -9 of the init, and after kill -9 of corrald with
// the init killed while corrald was down.
func TestRestartAlways(t *testing.T) {
	d := startDaemon(t, supervised)
	for _, rt := range []string{"lcr", "runc"} {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			id := "r11-al-" + rt
			d.corral("run", "-d", "--restart", "always", "--runtime", rt, "--rootfs", rootfs, id, "sleep", "1000").must(t)
			first := d.until(t, id, "RUNNING", 0)
			_ = syscall.Kill(first.Pid, syscall.SIGKILL)
			second := d.until(t, id, "RUNNING", 1)
			d.kill()
			_ = syscall.Kill(second.Pid, syscall.SIGKILL)
			for deadline := time.Now().Add(30 * time.Second); alive(second.Pid); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("init did not die")
				}
			}
			d.start()
			if third := d.until(t, id, "RUNNING", 2); third.Pid == second.Pid {
				t.Errorf("pid %d after the restart, want a new one", third.Pid)
			}
			d.corral("rm", "-f", id).must(t)
			d.assertGone(t, id)
		})
	}
}

// TestRestartStoppedByUser: a task stopped with `tasks stop` stays stopped; when corrald restarts,
// "always" restarts it and "unless-stopped" does not.
func TestRestartStoppedByUser(t *testing.T) {
	d := startDaemon(t, supervised)
	want := map[string]string{"unless-stopped": "STOPPED", "always": "RUNNING"}
	for policy := range want {
		d.corral("run", "-d", "--restart", policy, "--runtime", "runc", "--rootfs", rootfs, "r11-"+policy, "sleep", "1000").must(t)
		d.until(t, "r11-"+policy, "RUNNING", 0)
		d.corral("tasks", "stop", "--timeout", "1s", "r11-"+policy).must(t) // sleep as pid 1 ignores SIGTERM
	}
	time.Sleep(time.Second) // several back-offs
	for policy := range want {
		if got := d.tasks(t)["r11-"+policy]; got.Status != "STOPPED" || got.Restarts != 0 {
			t.Errorf("%s after tasks stop: %+v, want stopped", policy, got)
		}
	}
	d.restart()
	time.Sleep(time.Second)
	for policy, status := range want {
		if got := d.tasks(t)["r11-"+policy]; got.Status != status {
			t.Errorf("%s after corrald restarted: %+v, want %s", policy, got, status)
		}
	}
	d.corral("rm", "-f", "r11-always", "r11-unless-stopped").must(t)
	d.assertGone(t, "r11-always")
	d.assertGone(t, "r11-unless-stopped")
}
