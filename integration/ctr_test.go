package integration

import (
	"strings"
	"testing"
)

// TestCtr drives corrald with the unmodified ctr from Debian's containerd package.
func TestCtr(t *testing.T) {
	d := startDaemon(t, "")
	r := d.ctr("run", "--rm", "--runtime", "runc", "--rootfs", rootfs, "c2", "echo", "hi")
	if r.code != 0 || r.stdout != "hi\n" {
		t.Fatalf("ctr run: exit %d stdout %q stderr %q, want hi", r.code, r.stdout, r.stderr)
	}
	d.assertGone(t, "c2")

	d.corral("run", "-d", "--runtime", "runc", "--rootfs", rootfs, "c3", "sleep", "1000").must(t)
	if out := d.ctr("containers", "ls").must(t); !strings.Contains(out, "c3") || !strings.Contains(out, "runc") {
		t.Errorf("ctr c ls does not list c3 with runtime runc:\n%s", out)
	}
	if out := d.ctr("tasks", "ls").must(t); !strings.Contains(out, "c3") || !strings.Contains(out, "RUNNING") {
		t.Errorf("ctr t ls does not list c3 RUNNING:\n%s", out)
	}
	d.ctr("tasks", "kill", "-s", "SIGKILL", "c3").must(t)
	if got := d.wait(t, "c3"); got != 137 {
		t.Errorf("exit status %d, want 137", got)
	}
	d.ctr("tasks", "rm", "c3").must(t)
	d.ctr("containers", "rm", "c3").must(t)
	d.assertGone(t, "c3")
}

// TestCtrSeccomp runs ctr's default seccomp profile on runc and runsc: the container's init is in
// seccomp filter mode (on runsc through --oci-seccomp, which the keeper passes).
func TestCtrSeccomp(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range []string{"runc", "runsc"} {
		t.Run(rt, func(t *testing.T) {
			requireTool(t, rt)
			r := d.ctr("run", "--rm", "--runtime", rt, "--seccomp", "--rootfs", rootfs, "seccomp-"+rt, "grep", "Seccomp:", "/proc/self/status")
			if r.code != 0 || strings.Join(strings.Fields(r.stdout), " ") != "Seccomp: 2" {
				t.Errorf("ctr run --seccomp: exit %d stdout %q stderr %q, want Seccomp: 2", r.code, r.stdout, r.stderr)
			}
		})
	}
}
