package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCtrDefaultRuntime runs ctr with its own default runtime, io.containerd.runc.v2, and watches
// `ctr events` while another container runs.
func TestCtrDefaultRuntime(t *testing.T) {
	d := startDaemon(t, "")
	// Another container runs while the events are watched.
	d.corral("run", "-d", "--runtime", "io.containerd.runc.v2", "--rootfs", rootfs, "bg", "sleep", "1000").must(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	events := exec.CommandContext(ctx, "ctr", "--address", d.Address(), "events")
	var out strings.Builder
	events.Stdout = &out
	if err := events.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let ctr subscribe
	r := d.ctr("run", "--rm", "--rootfs", rootfs, "c2", "echo", "hi")
	if r.code != 0 || r.stdout != "hi\n" {
		t.Fatalf("ctr run: exit %d stdout %q stderr %q, want hi", r.code, r.stdout, r.stderr)
	}
	if info := d.corral("containers", "ls").must(t); strings.Contains(info, "c2") {
		t.Errorf("c2 left behind:\n%s", info)
	}
	d.assertGone(t, "c2")
	time.Sleep(200 * time.Millisecond)
	_ = events.Process.Signal(syscall.SIGTERM)
	_ = events.Wait()
	for _, topic := range []string{"/containers/create", "/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete", "/containers/delete"} {
		if !strings.Contains(out.String(), topic) {
			t.Errorf("ctr events did not show %s:\n%s", topic, out.String())
		}
	}
	d.taskPid(t, "bg", "RUNNING")
	d.corral("tasks", "kill", "-s", "KILL", "bg").must(t)
	if got := d.wait(t, "bg"); got != 137 {
		t.Errorf("exit %d, want 137", got)
	}
	d.corral("containers", "rm", "bg").must(t)
	d.assertGone(t, "bg")
}

// TestV2Execs runs 50 sequential execs into one running v2 container.
func TestV2Execs(t *testing.T) {
	d := startDaemon(t, "")
	d.corral("run", "-d", "--runtime", "io.containerd.runc.v2", "--rootfs", rootfs, "ex", "sleep", "1000").must(t)
	r := d.ctr("tasks", "exec", "--exec-id", "first", "ex", "sh", "-c", "echo out; echo err >&2; exit 6")
	if r.code != 6 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("exec: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	for i := 0; i < 50; i++ {
		r := d.ctr("tasks", "exec", "--exec-id", "e"+strconv.Itoa(i), "ex", "sh", "-c", fmt.Sprintf("exit %d", i%7))
		if r.code != i%7 {
			t.Fatalf("exec %d: exit %d, want %d: %s", i, r.code, i%7, r.stderr)
		}
	}
	if out := d.ctr("tasks", "metrics", "ex").must(t); !strings.Contains(out, "pids.current") {
		t.Errorf("ctr t metrics shows no cgroup metrics:\n%s", out)
	}
	d.corral("tasks", "kill", "-s", "KILL", "ex").must(t)
	if got := d.wait(t, "ex"); got != 137 {
		t.Errorf("exit %d, want 137", got)
	}
	d.corral("containers", "rm", "ex").must(t)
	d.assertGone(t, "ex")
}

// TestV2ShimKilled kills -9 the shim of a running container: the task stops, rm works, and the
// shim's delete subcommand leaves no runc state.
func TestV2ShimKilled(t *testing.T) {
	d := startDaemon(t, "")
	d.corral("run", "-d", "--runtime", "io.containerd.runc.v2", "--rootfs", rootfs, "k1", "sleep", "1000").must(t)
	pid := d.taskPid(t, "k1", "RUNNING")
	out, err := exec.Command("pgrep", "-f", "containerd-shim-runc-v2 -namespace default -id k1 -address "+d.Address()).Output()
	if err != nil {
		t.Fatalf("no shim process: %v", err)
	}
	shimPid, _ := strconv.Atoi(strings.Fields(string(out))[0])
	if err := syscall.Kill(shimPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if got := d.wait(t, "k1"); got != 137 {
		t.Errorf("exit %d after the shim died, want 137 (the container is killed by the shim's delete)", got)
	}
	d.taskPid(t, "k1", "STOPPED")
	if alive(pid) {
		t.Errorf("container process %d survived its shim's cleanup", pid)
	}
	d.corral("containers", "rm", "k1").must(t)
	d.assertGone(t, "k1")
}

func TestV2MissingShim(t *testing.T) {
	d := startDaemon(t, "")
	r := d.corral("run", "--rm", "--runtime", "io.containerd.nope.v1", "--rootfs", rootfs, "n1", "true")
	for _, want := range []string{"containerd-shim-nope-v1", "$PATH", "next to corrald", "--runtime"} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d, stderr %q does not mention %q", r.code, r.stderr, want)
		}
	}
	if _, err := os.Stat(filepath.Join(d.Root(), "bundles", "default", "n1")); !os.IsNotExist(err) {
		t.Errorf("bundle of n1 created: %v", err)
	}
	out := d.corral("runtimes").must(t)
	if !strings.Contains(out, "io.containerd.runc.v2") || !strings.Contains(out, "installed shim") {
		t.Errorf("corral runtimes does not list the installed shim:\n%s", out)
	}
}
