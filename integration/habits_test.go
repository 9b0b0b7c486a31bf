package integration

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestSocketDirKeepsMode: corrald leaves the mode of an existing socket directory alone, here a
// sticky, world-writable one like /tmp, and replaces the socket a killed corrald left.
func TestSocketDirKeepsMode(t *testing.T) {
	d := startDaemon(t, "")
	d.kill()
	if err := os.Chmod(d.dir, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	d.start()
	for path, want := range map[string]os.FileMode{
		d.dir:       os.ModeDir | os.ModeSticky | 0o777,
		d.Address(): os.ModeSocket | 0o660,
	} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode(), err, want)
		}
	}
	d.corral("version").must(t)
}

// TestSecondDaemonRefuses: a corrald on the socket another one serves refuses to start, whatever its
// root, and the first one keeps serving.
func TestSecondDaemonRefuses(t *testing.T) {
	d := startDaemon(t, "")
	other := t.TempDir()
	r := runCmd(t, filepath.Join(bins, "corrald"), "--config", d.config,
		"--root", filepath.Join(other, "root"), "--state", filepath.Join(other, "state"))
	if r.code == 0 || !strings.Contains(r.stderr, "another corrald serves "+d.Address()) {
		t.Errorf("second corrald: exit %d, stderr %q; want a refusal naming %s", r.code, r.stderr, d.Address())
	}
	if fi, err := os.Stat(d.Address()); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Errorf("socket %s of the first corrald: %v", d.Address(), err)
	}
	d.corral("run", "--rm", "--runtime", "runc", "--rootfs", rootfs, "dh-second", "true").must(t)
}

// TestConfigDump: `corrald config dump` prints the config file over the defaults, then the flags.
func TestConfigDump(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(file, []byte("root = \"/dh-file-root\"\nlog_level = \"debug\"\n[timeouts]\nshutdown = \"3s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runCmd(t, filepath.Join(bins, "corrald"), "--config", file, "--root", "/dh-flag-root", "config", "dump").must(t)
	for _, want := range []string{`root = "/dh-flag-root"`, `log_level = "debug"`, `shutdown = "3s"`, `state = "/run/corral"`} {
		if !strings.Contains(out, want) {
			t.Errorf("config dump has no %s:\n%s", want, out)
		}
	}
	if r := runCmd(t, filepath.Join(bins, "corrald"), "config", "dumpp"); r.code == 0 {
		t.Errorf("corrald config dumpp exited 0:\n%s", r.stdout)
	}
}

// TestGracefulStopEndsWaits: SIGTERM ends the waits in flight with Unavailable at once rather than
// after the shutdown timeout; `corral tasks wait` rides out the restart and `corral events` ends.
func TestGracefulStopEndsWaits(t *testing.T) {
	d := startDaemon(t, "[timeouts]\nshutdown = \"60s\"\n")
	d.corral("run", "-d", "--runtime", "runc", "--rootfs", rootfs, "dh-gs", "sleep", "1000").must(t)
	waitErr := make(chan error, 1)
	go func() {
		_, err := tasksapi.NewTasksClient(d.grpcConn()).Wait(nsCtx("default"), &tasksapi.WaitRequest{ContainerID: "dh-gs"})
		waitErr <- err
	}()
	events := d.startCorral("events")
	waiter := d.startCorral("tasks", "wait", "dh-gs")
	time.Sleep(500 * time.Millisecond) // the waits reach corrald

	took := d.stop(t)
	if took > 5*time.Second {
		t.Errorf("corrald took %v to stop, want the waits ended at once", took)
	}
	select {
	case err := <-waitErr:
		if status.Code(err) != codes.Unavailable {
			t.Errorf("Tasks.Wait ended with %v, want Unavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Tasks.Wait still waits after corrald stopped")
	}
	if code := events.exitWithin(t, 5*time.Second); code == 0 {
		t.Error("corral events exited 0 when corrald stopped")
	}

	d.start()
	d.corral("tasks", "kill", "-s", "KILL", "dh-gs").must(t)
	waiter.waitLine(t, "137")
	if code := waiter.exitCode(t); code != 0 {
		t.Errorf("corral tasks wait exited %d", code)
	}
	d.corral("rm", "dh-gs").must(t)
	d.assertGone(t, "dh-gs")
}

// TestRunSurvivesRestart: a foreground `corral run --rm` keeps waiting while corrald restarts, then
// exits with the container's status and removes it.
func TestRunSurvivesRestart(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range []string{"lcr", "runc"} {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			id := "dh-restart-" + rt
			fg := d.startCorral("run", "--rm", "--runtime", rt, "--rootfs", rootfs, id, "sh", "-c",
				"trap 'exit 5' TERM; echo ready; while true; do sleep 0.1; done")
			fg.waitLine(t, "ready")
			d.stop(t)
			d.start()
			d.corral("tasks", "kill", id).must(t)
			if code := fg.exitCode(t); code != 5 {
				t.Fatalf("corral run exited %d, want the container's 5", code)
			}
			d.assertGone(t, id)
		})
	}
}

// stop stops corrald with SIGTERM, as an init system does, waits for it to exit, and returns how long
// that took.
func (d *daemon) stop(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	pid := d.cmd.Process.Pid
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		if time.Since(start) > time.Minute {
			t.Fatalf("corrald did not exit within a minute of SIGTERM\n%s", d.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}
