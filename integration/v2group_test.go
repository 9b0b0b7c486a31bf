package integration

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// v2gShimExit bounds how long a grouped shim takes to exit once its last container is deleted.
const v2gShimExit = 5 * time.Second

// groupShims returns the pids of the containerd-shim-runc-v2 processes serving d.
func (d *daemon) groupShims() []string {
	out, _ := exec.Command("pgrep", "-f", "containerd-shim-runc-v2 .*-address "+d.Address()+"$").Output()
	return strings.Fields(string(out))
}

// oomIn runs an exec past the memory limit of container id and waits for its /tasks/oom on ctr events.
func (d *daemon) oomIn(t *testing.T, id, execID string) {
	t.Helper()
	ev := d.ctrEvents(t)
	r := d.ctr("tasks", "exec", "--exec-id", execID, id, "sh", "-c", `x=$(head -c 134217728 /dev/zero | tr "\0" a); echo ${#x}`)
	if r.code == 0 {
		t.Errorf("exec %s past the memory limit of %s exited 0: %s", execID, id, r.stdout)
	}
	ev.until(t, "/tasks/oom", id)
}

// TestV2Group runs two containers with the same io.containerd.runc.v2.group annotation on containerd's
// runc shim: one shim process serves both, and the second's /tasks/oom, which the shim publishes on
// the events socket of the first, reaches ctr events, also after corrald is killed with -9 and
// restarts. Deleting the first leaves the shim serving the second, through another restart; deleting
// the second makes the shim exit, and nothing is left: no shim, socket, events socket or bundle.
func TestV2Group(t *testing.T) {
	requireTool(t, "ctr")
	requireTool(t, "containerd-shim-runc-v2")
	d := startDaemon(t, "")
	for _, id := range []string{"v2g-a", "v2g-b"} {
		d.ctr("run", "-d", "--annotation", "io.containerd.runc.v2.group=v2g-grp", "--memory-limit", strconv.Itoa(64<<20),
			"--rootfs", rootfs, id, "sleep", "1000").must(t)
	}
	shims := d.groupShims()
	if len(shims) != 1 {
		t.Fatalf("shims serving the group: %v, want one", shims)
	}
	pidA, pidB := d.taskPid(t, "v2g-a", "RUNNING"), d.taskPid(t, "v2g-b", "RUNNING")
	d.oomIn(t, "v2g-b", "x1")

	d.restart()
	if d.taskPid(t, "v2g-a", "RUNNING") != pidA || d.taskPid(t, "v2g-b", "RUNNING") != pidB {
		t.Errorf("pids changed over the restart")
	}
	d.oomIn(t, "v2g-b", "x2")

	// The first goes; the shim it started goes on serving the second.
	d.ctr("tasks", "kill", "-s", "KILL", "v2g-a").must(t)
	if got := d.wait(t, "v2g-a"); got != 137 {
		t.Errorf("v2g-a exited %d, want 137", got)
	}
	d.ctr("tasks", "rm", "v2g-a").must(t)
	d.ctr("containers", "rm", "v2g-a").must(t)
	if got := d.groupShims(); fmt.Sprint(got) != fmt.Sprint(shims) {
		t.Fatalf("shims after deleting v2g-a: %v, want %v", got, shims)
	}
	d.restart()
	if d.taskPid(t, "v2g-b", "RUNNING") != pidB {
		t.Errorf("pid of v2g-b changed over the restart")
	}
	d.oomIn(t, "v2g-b", "x3")
	if out := d.ctr("tasks", "exec", "--exec-id", "x4", "v2g-b", "echo", "hi").must(t); out != "hi\n" {
		t.Errorf("exec in v2g-b printed %q", out)
	}
	d.ctr("tasks", "kill", "-s", "KILL", "v2g-b").must(t)
	if got := d.wait(t, "v2g-b"); got != 137 {
		t.Errorf("v2g-b exited %d, want 137", got)
	}
	d.ctr("tasks", "rm", "v2g-b").must(t)
	d.ctr("containers", "rm", "v2g-b").must(t)

	for deadline := time.Now().Add(v2gShimExit); len(d.groupShims()) > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if left := d.groupShims(); len(left) > 0 {
		t.Errorf("shim still runs after the group's last container: %v", left)
	}
	d.assertGone(t, "v2g-a")
	d.assertGone(t, "v2g-b")
	sock := fmt.Sprintf("/run/containerd/s/%x", sha256.Sum256([]byte(filepath.Join(d.Address(), "default", "v2g-grp"))))
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("group shim socket %s left (%v)", sock, err)
	}
	if left, _ := filepath.Glob(filepath.Join(d.State(), "e", "*")); len(left) > 0 {
		t.Errorf("events sockets left: %v", left)
	}
	if strings.Contains(d.log.String(), "dropped an event") {
		t.Errorf("corrald dropped an event of the group's shim")
	}
}

// TestV2GroupCRIPod runs a CRI pod with a running container on the v2 handler: containerd's runc
// shim groups the container with its pause by the io.kubernetes.cri.sandbox-id annotation. The pod
// survives corrald being killed with -9; then crictl stopp and rmp remove it, and the shim exits.
func TestV2GroupCRIPod(t *testing.T) {
	requireTool(t, "containerd-shim-runc-v2")
	d := startCRIContainers(t, "")
	podCfg := cricPod(t, "v2g-pod")
	pod := d.runp(t, "v2", podCfg)
	id := d.create(t, pod, cricContainer("v2g-ctr", "sleep", "1000"), podCfg)
	d.crictl("start", id).must(t)
	d.waitState(t, id, "CONTAINER_RUNNING")
	shims := d.groupShims()
	if len(shims) != 1 {
		t.Fatalf("shims serving the pod: %v, want one", shims)
	}
	d.restart()
	if st := d.inspect(t, id); st.Status.State != "CONTAINER_RUNNING" {
		t.Errorf("after the restart the container is %s", st.Status.State)
	}
	if got := d.groupShims(); fmt.Sprint(got) != fmt.Sprint(shims) {
		t.Errorf("shims after the restart: %v, want %v", got, shims)
	}
	d.crictl("stopp", pod).must(t)
	d.crictl("rmp", pod).must(t)
	for deadline := time.Now().Add(v2gShimExit); len(d.groupShims()) > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if left := d.groupShims(); len(left) > 0 {
		t.Errorf("shim still runs after rmp: %v", left)
	}
	if out := d.ctr("-n", "k8s.io", "containers", "ls", "-q").must(t); strings.Contains(out, id) || strings.Contains(out, pod) {
		t.Errorf("containers left after rmp:\n%s", out)
	}
	if left, _ := filepath.Glob(d.Bundle("k8s.io", "*")); len(left) > 0 {
		t.Errorf("bundles left: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(d.State(), "e", "*")); len(left) > 0 {
		t.Errorf("events sockets left: %v", left)
	}
}
