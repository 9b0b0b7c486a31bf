package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oomEventsWait bounds the wait for an event on `ctr events`: a keeper forwards events within
// milliseconds, a loaded host may take seconds.
const oomEventsWait = time.Minute

// TestOOM: a container the OOM killer kills exits 137, and its keeper publishes containerd's
// /tasks/oom for it, which `ctr events` shows; a container under its limit gets none. On every
// family: shim v1 (runc, runsc), lcr and shim v2 (containerd's runc shim).
func TestOOM(t *testing.T) {
	requireTool(t, "ctr")
	d := startDaemon(t, "")
	ev := d.ctrEvents(t)
	for _, rt := range []string{"runc", "lcr", "io.containerd.runc.v2", "runsc"} {
		t.Run(rt, func(t *testing.T) {
			if rt == "runsc" {
				requireTool(t, "runsc")
			}
			name := strings.NewReplacer("io.containerd.", "", ".", "-").Replace(rt)
			ok, killed := "oom-ok-"+name, "oom-kill-"+name
			// 64m leaves room for 4 MiB in a shell variable, and for runsc's sandbox, not for 128 MiB.
			hold := `x=$(head -c %d /dev/zero | tr "\0" a); echo ${#x}`
			if out := d.corral("run", "--rm", "--runtime", rt, "--memory", "64m", "--rootfs", rootfs, ok, "sh", "-c", fmt.Sprintf(hold, 4<<20)).must(t); out != "4194304\n" {
				t.Fatalf("container under its limit printed %q", out)
			}
			r := d.corral("run", "--runtime", rt, "--memory", "64m", "--rootfs", rootfs, killed, "sh", "-c", fmt.Sprintf(hold, 128<<20))
			if r.code != 137 {
				t.Errorf("OOM-killed container exited %d, want 137\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			// corral-shim records the kill in the bundle; containerd's shim (shim v2) only publishes it.
			if rt != "io.containerd.runc.v2" {
				if b, err := os.ReadFile(filepath.Join(d.Bundle("default", killed), "oom")); err != nil {
					t.Errorf("no OOM record in the bundle: %v", err)
				} else if _, err := time.Parse(time.RFC3339Nano, string(b)); err != nil {
					t.Errorf("OOM record %q: %v", b, err)
				}
			}
			if _, err := os.Stat(filepath.Join(d.Bundle("default", ok), "oom")); err == nil {
				t.Errorf("container under its limit has an OOM record")
			}
			d.corral("rm", killed).must(t)
			// Every event about ok comes before the delete of killed.
			got := ev.until(t, "/containers/delete", killed)
			if n := got[eventKey("/tasks/oom", killed)]; n == 0 {
				t.Errorf("no /tasks/oom for %s; events %v", killed, got)
			}
			if n := got[eventKey("/tasks/oom", ok)]; n != 0 {
				t.Errorf("%d /tasks/oom for %s, under its limit", n, ok)
			}
			if got[eventKey("/tasks/exit", ok)] != 1 || got[eventKey("/tasks/exit", killed)] != 1 {
				t.Errorf("exits missing or doubled: %v", got)
			}
		})
	}
}

// ctrEventsLines is the output of a `ctr events` running in the background.
type ctrEventsLines chan string

// ctrEvents starts `ctr events` and returns once it receives events.
func (d *daemon) ctrEvents(t *testing.T) ctrEventsLines {
	t.Helper()
	cmd := exec.Command("ctr", "--address", d.Address(), "events")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(ctrEventsLines, 1000)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	// The subscription is in place once a label update, repeated until then, shows.
	d.corral("run", "-d", "--runtime", "runc", "--rootfs", rootfs, "oom-sync", "sleep", "1000").must(t)
	deadline := time.After(oomEventsWait)
	for i := 0; len(lines) == 0; i++ {
		d.ctr("containers", "label", "oom-sync", fmt.Sprintf("n=%d", i)).must(t)
		select {
		case <-deadline:
			t.Fatalf("ctr events showed nothing within %s", oomEventsWait)
		case <-time.After(100 * time.Millisecond):
		}
	}
	d.corral("rm", "-f", "oom-sync").must(t)
	lines.until(t, "/containers/delete", "oom-sync")
	return lines
}

// eventKey names an event by its topic and the container it is about.
func eventKey(topic, id string) string { return topic + " " + id }

// until reads events up to the one of topic about container id, and counts them by eventKey.
func (l ctrEventsLines) until(t *testing.T, topic, id string) map[string]int {
	t.Helper()
	got := map[string]int{}
	deadline := time.After(oomEventsWait)
	for {
		select {
		case line, ok := <-l:
			if !ok {
				t.Fatalf("ctr events ended before %s of %s; got %v", topic, id, got)
			}
			// ctr prints: <time> <namespace> <topic> <event as JSON>; the time has spaces.
			_, ev, ok := strings.Cut(line, " /")
			name, js, _ := strings.Cut(ev, " ")
			if !ok {
				continue
			}
			k := eventKey("/"+name, eventID(js))
			got[k]++
			if k == eventKey(topic, id) {
				return got
			}
		case <-deadline:
			t.Fatalf("no %s of %s on ctr events within %s; got %v", topic, id, oomEventsWait, got)
		}
	}
}

// eventID is the container id in an event's JSON: container_id, or id for container events.
func eventID(js string) string {
	for _, key := range []string{`"container_id":"`, `"id":"`} {
		if _, rest, ok := strings.Cut(js, key); ok {
			id, _, _ := strings.Cut(rest, `"`)
			return id
		}
	}
	return ""
}
