package integration

import (
	"bytes"
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

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	apitask "github.com/containerd/containerd/api/types/task"

	lxc "github.com/corral-dev/corral/engine/lcr"
)

// lcrRuntime is the runtime name under which containerd finds corral-shim as containerd-shim-lcr-v1.
const lcrRuntime = "io.containerd.lcr.v1"

// ctrdNamespace is the namespace besides ctr's default that the test uses.
const ctrdNamespace = "ctrd-ns"

// ctrd is a private containerd (Debian's 1.6) started for one test on a temporary directory, with
// corral-shim installed as containerd-shim-lcr-v1 on its $PATH and its keeper sockets in the
// temporary directory too.
type ctrd struct {
	t   *testing.T
	dir string
	cmd *exec.Cmd
	// exited is closed once containerd has exited.
	exited chan struct{}
}

func (c *ctrd) Address() string   { return filepath.Join(c.dir, "containerd.sock") }
func (c *ctrd) SocketDir() string { return filepath.Join(c.dir, "s") }
func (c *ctrd) fifoDir() string   { return filepath.Join(c.dir, "fifo") }
func (c *ctrd) logFile() string   { return filepath.Join(c.dir, "containerd.log") }

// Bundle is the bundle containerd 1.6 makes for task ns/id: the keeper's work dir.
func (c *ctrd) Bundle(ns, id string) string {
	return filepath.Join(c.dir, "state", "io.containerd.runtime.v2.task", ns, id)
}

// ctrdConfig keeps containerd's files in the temporary directory and turns off what this test does
// not need and what cannot load here: CRI (it wants CNI and network) and snapshotters that need
// kernel modules, a filesystem or a configuration this host lacks.
const ctrdConfig = `version = 2
root = %q
state = %q
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]
[grpc]
  address = %q
[ttrpc]
  address = %q
[plugins."io.containerd.internal.v1.opt"]
  path = %q
`

func startContainerd(t *testing.T) *ctrd {
	t.Helper()
	requireTool(t, "containerd")
	dir, err := os.MkdirTemp("", "corral-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	c := &ctrd{t: t, dir: dir}
	for _, d := range []string{"bin", "s", "fifo"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(bins, "corral-shim"), filepath.Join(dir, "bin", "containerd-shim-lcr-v1")); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(ctrdConfig, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.Address(),
		c.Address()+".ttrpc", filepath.Join(dir, "opt"))
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.stop()
		c.cleanup()
		if t.Failed() {
			b, _ := os.ReadFile(c.logFile())
			t.Logf("containerd log:\n%s", b)
		}
		os.RemoveAll(dir)
	})
	c.start()
	return c
}

// start runs containerd. It passes its environment to the shims it starts: the shim finds
// containerd-shim-lcr-v1 on $PATH, and corral-shim puts its sockets in CORRAL_SHIM_SOCKET_DIR.
func (c *ctrd) start() {
	c.t.Helper()
	logf, err := os.OpenFile(c.logFile(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	defer logf.Close()
	c.cmd = exec.Command("containerd", "--config", filepath.Join(c.dir, "config.toml"), "--log-level", "debug")
	c.cmd.Env = append(os.Environ(), "PATH="+filepath.Join(c.dir, "bin")+":"+os.Getenv("PATH"),
		"CORRAL_SHIM_SOCKET_DIR="+c.SocketDir())
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	exited := make(chan struct{})
	c.exited = exited
	go func() { _ = c.cmd.Wait(); close(exited) }()
	deadline := time.After(20 * time.Second)
	for {
		if conn, err := dialUnix(c.Address()); err == nil {
			conn.Close()
			return
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(c.logFile())
			c.t.Fatalf("containerd exited: %v\n%s", c.cmd.ProcessState, b)
		case <-deadline:
			c.t.Fatal("containerd did not listen within 20s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop stops containerd as its service would: SIGTERM, SIGKILL after 10 s. Shims outlive it.
func (c *ctrd) stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	c.cmd = nil
}

// cleanup kills what a failed test left behind: keepers, LXC containers and their cgroups, and the
// parent cgroups of the test's namespace.
func (c *ctrd) cleanup() {
	out, _ := exec.Command("pgrep", "-f", " -address "+c.Address()).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	cleanupLXCBundles(c.Bundle("*", "*"))
	// ctr's spec puts a container's cgroup at /<ns>/<id>: the namespace's is left, empty.
	for _, pattern := range []string{"/sys/fs/cgroup/*/" + ctrdNamespace, "/sys/fs/cgroup/" + ctrdNamespace} {
		dirs, _ := filepath.Glob(pattern)
		for _, d := range dirs {
			_ = syscall.Rmdir(d)
		}
	}
}

// ctr runs Debian's ctr against this containerd in namespace ns.
func (c *ctrd) ctr(ns string, args ...string) result {
	c.t.Helper()
	return runCmd(c.t, "ctr", append([]string{"--address", c.Address(), "--namespace", ns}, args...)...)
}

// run is `ctr run` on the busybox rootfs with corral-shim's LXC runtime.
func (c *ctrd) run(ns string, flags []string, id string, args ...string) result {
	c.t.Helper()
	a := append([]string{"run", "--runtime", lcrRuntime, "--fifo-dir", c.fifoDir()}, flags...)
	return c.ctr(ns, append(append(a, "--rootfs", rootfs, id), args...)...)
}

// execIn is `ctr tasks exec` of args in task id.
func (c *ctrd) execIn(ns, id, execID string, args ...string) result {
	c.t.Helper()
	return c.ctr(ns, append([]string{"tasks", "exec", "--fifo-dir", c.fifoDir(), "--exec-id", execID, id}, args...)...)
}

// removeOnFailure kills and removes task and container id if the test fails before it does.
func (c *ctrd) removeOnFailure(t *testing.T, ns, id string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		c.ctr(ns, "tasks", "kill", "-a", "-s", "KILL", id)
		time.Sleep(100 * time.Millisecond)
		c.ctr(ns, "tasks", "rm", "-f", id)
		c.ctr(ns, "containers", "rm", id)
	})
}

// task returns the task's pid and status as `ctr tasks ls` shows them, or "" if it is not listed.
func (c *ctrd) task(t *testing.T, ns, id string) (pid int, status string) {
	t.Helper()
	for _, line := range strings.Split(c.ctr(ns, "tasks", "ls").must(t), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == id {
			pid, _ = strconv.Atoi(f[1])
			return pid, f[2]
		}
	}
	return 0, ""
}

// stopped waits until containerd reports task id stopped and returns its exit status.
func (c *ctrd) stopped(t *testing.T, ns, id string) uint32 {
	t.Helper()
	conn, err := dialUnix(c.Address())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tasks := tasksapi.NewTasksClient(conn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(nsCtx(ns), 5*time.Second)
		resp, err := tasks.Get(ctx, &tasksapi.GetRequest{ContainerID: id})
		cancel()
		if err != nil {
			t.Fatalf("get task %s: %v", id, err)
		}
		if resp.Process.Status == apitask.Status_STOPPED {
			if _, status := c.task(t, ns, id); status != "STOPPED" {
				t.Errorf("ctr tasks ls shows %s %q, want STOPPED", id, status)
			}
			return resp.Process.ExitStatus
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s is still %s after 30s", id, resp.Process.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertGone checks nothing of container ns/id is left: in containerd's lists, its bundle, the
// keeper and its socket, LXC's processes (lxc-execute and LXC's init name the bundle) and the
// container's processes, and the container's and LXC monitor's cgroups.
func (c *ctrd) assertGone(t *testing.T, ns, id string) {
	t.Helper()
	if out := c.ctr(ns, "containers", "ls", "-q").must(t); strings.Contains(out, id) {
		t.Errorf("container %s still listed:\n%s", id, out)
	}
	if _, status := c.task(t, ns, id); status != "" {
		t.Errorf("task %s still listed as %s", id, status)
	}
	// The keeper exits once containerd has shut it down, shortly after ctr returns.
	keeper := fmt.Sprintf("-namespace %s -id %s -address %s", ns, id, c.Address())
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, _ := exec.Command("pgrep", "-f", "--", keeper).Output()
		if len(out) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("keeper of %s still runs: pid %s", id, out)
			break
		}
	}
	if socks, _ := os.ReadDir(c.SocketDir()); len(socks) > 0 {
		t.Errorf("keeper sockets left in %s: %v", c.SocketDir(), socks)
	}
	bundle := c.Bundle(ns, id)
	if !isGone(bundle) {
		t.Errorf("bundle %s still exists", bundle)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(bundle)) {
			t.Errorf("process %s still runs: %q", filepath.Dir(p), bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
	// ctr's spec sets linux.cgroupsPath /<ns>/<id>; without it the keeper uses corral/<ns>/<id>.
	for _, dir := range []string{ns + "/" + id, "corral/" + ns + "/" + id} {
		for _, suffix := range []string{"", lxc.MonitorSuffix} {
			for _, pattern := range []string{"/sys/fs/cgroup/*/" + dir + suffix, "/sys/fs/cgroup/" + dir + suffix} {
				if left, _ := filepath.Glob(pattern); len(left) > 0 {
					t.Errorf("cgroups left: %v", left)
				}
			}
		}
	}
}

// TestContainerd runs LXC containers through corral-shim with the unmodified containerd 1.6 and ctr
// from Debian: corral-shim installed as containerd-shim-lcr-v1 is the runtime io.containerd.lcr.v1.
func TestContainerd(t *testing.T) {
	c := startContainerd(t)

	// ctr run --rm: stdout and the exit status come back, in ctr's default namespace and another.
	t.Run("run", func(t *testing.T) {
		for _, ns := range []string{"default", ctrdNamespace} {
			id := "ctrd-run"
			c.removeOnFailure(t, ns, id)
			r := c.run(ns, []string{"--rm"}, id, "sh", "-c", "echo hi; exit 3")
			if r.code != 3 || r.stdout != "hi\n" {
				t.Fatalf("namespace %s: ctr run exited %d, stdout %q, stderr %q; want 3 and %q", ns, r.code, r.stdout, r.stderr, "hi\n")
			}
			c.assertGone(t, ns, id)
			// It ran under LXC: LXC's init is pid 1 and LXC sets container=lxc.
			id = "ctrd-lxc"
			c.removeOnFailure(t, ns, id)
			out := c.run(ns, []string{"--rm"}, id, "sh", "-c", `echo "$container $(cat /proc/1/cmdline)"`).must(t)
			if out != "lxc init\n" {
				t.Errorf("namespace %s: the container printed %q, want LXC's %q", ns, out, "lxc init\n")
			}
			c.assertGone(t, ns, id)
		}
	})

	// ctr run -d, exec, kill, tasks rm, containers rm.
	t.Run("lifecycle", func(t *testing.T) {
		id := "ctrd-life"
		c.removeOnFailure(t, "default", id)
		c.run("default", []string{"-d"}, id, "sleep", "1000").must(t)
		if pid, status := c.task(t, "default", id); status != "RUNNING" || pid <= 0 {
			t.Fatalf("ctr tasks ls: %s has pid %d, status %q; want RUNNING", id, pid, status)
		}
		if r := c.execIn("default", id, "e1", "sh", "-c", "echo in; exit 4"); r.code != 4 || r.stdout != "in\n" {
			t.Fatalf("ctr tasks exec exited %d, stdout %q, stderr %q; want 4 and %q", r.code, r.stdout, r.stderr, "in\n")
		}
		if out := c.ctr("default", "tasks", "ps", id).must(t); len(strings.Split(strings.TrimSpace(out), "\n")) < 2 {
			t.Errorf("ctr tasks ps lists no process:\n%s", out)
		}
		c.ctr("default", "tasks", "kill", "-s", "KILL", id).must(t)
		if got := c.stopped(t, "default", id); got != 137 {
			t.Errorf("exit status %d after SIGKILL, want 137", got)
		}
		c.ctr("default", "tasks", "rm", id).must(t)
		c.ctr("default", "containers", "rm", id).must(t)
		c.assertGone(t, "default", id)
	})

	// ctr run -t: the container's process gets a terminal, through script(1), which gives ctr one.
	t.Run("terminal", func(t *testing.T) {
		id := "ctrd-tty"
		c.removeOnFailure(t, "default", id)
		ctr := []string{"ctr", "--address", c.Address(), "run", "-t", "--rm", "--runtime", lcrRuntime, "--fifo-dir", c.fifoDir(),
			"--rootfs", rootfs, id, "sh", "-c", "tty; exit 6"}
		r := runCmd(t, "script", "-qec", shellJoin(ctr), "/dev/null")
		if r.code != 6 || !strings.Contains(r.stdout, "/dev/pts/") {
			t.Fatalf("ctr run -t exited %d, printed %q; want 6 and a /dev/pts/ terminal", r.code, r.stdout)
		}
		c.assertGone(t, "default", id)
	})

	// containerd restarts: it reconnects to the keeper, which still runs the container.
	t.Run("restart", func(t *testing.T) {
		id := "ctrd-restart"
		c.removeOnFailure(t, ctrdNamespace, id)
		c.run(ctrdNamespace, []string{"-d"}, id, "sleep", "1000").must(t)
		pid, _ := c.task(t, ctrdNamespace, id)
		c.stop()
		c.start()
		if got, status := c.task(t, ctrdNamespace, id); status != "RUNNING" || got != pid {
			t.Fatalf("after a restart of containerd %s has pid %d, status %q; want %d RUNNING", id, got, status, pid)
		}
		if r := c.execIn(ctrdNamespace, id, "e1", "sh", "-c", "exit 5"); r.code != 5 {
			t.Fatalf("ctr tasks exec exited %d (stderr %q), want 5", r.code, r.stderr)
		}
		c.ctr(ctrdNamespace, "tasks", "kill", id).must(t)
		if got := c.stopped(t, ctrdNamespace, id); got != 143 {
			t.Errorf("exit status %d after SIGTERM, want 143", got)
		}
		c.ctr(ctrdNamespace, "tasks", "rm", id).must(t)
		c.ctr(ctrdNamespace, "containers", "rm", id).must(t)
		c.assertGone(t, ctrdNamespace, id)
	})

	// The keeper dies: containerd runs corral-shim's delete bootstrap, which ends the container.
	t.Run("keeper-killed", func(t *testing.T) {
		id := "ctrd-orphan"
		c.removeOnFailure(t, "default", id)
		c.run("default", []string{"-d"}, id, "sleep", "1000").must(t)
		out, _ := exec.Command("pgrep", "-f", "--", "-id "+id+" -address "+c.Address()).Output()
		keeper, err := strconv.Atoi(strings.TrimSpace(string(out)))
		if err != nil {
			t.Fatalf("no single keeper for %s: %q", id, out)
		}
		if err := syscall.Kill(keeper, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, status := c.task(t, "default", id); status == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("containerd still lists task %s 30s after its keeper was killed", id)
			}
		}
		c.ctr("default", "containers", "rm", id).must(t)
		c.assertGone(t, "default", id)
	})

	// The keepers log to containerd's log: none lost a client's stdio.
	if b, _ := os.ReadFile(c.logFile()); bytes.Contains(b, []byte("failed to open output fifo")) {
		t.Error("a keeper failed to open an output FIFO (see containerd's log)")
	}
}

// shellJoin quotes args for sh.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
