package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestCRIPodRuntimesLXCPids runs lxc pods one after another: the pid corrald reports for each pod's
// pause and for its container is the command's, in the pod's namespaces. LXC's init runs the mount
// hook of the pause's read-only rootfs in a child of its own before the command.
func TestCRIPodRuntimesLXCPids(t *testing.T) {
	requireTool(t, "lxc-execute")
	d := startCRIContainers(t, "")
	for i := range 20 {
		name := fmt.Sprintf("crir-pid-%d", i)
		podCfg := cricPod(t, name)
		pod := d.runp(t, "lxc", podCfg)
		ppid := d.inspectp(t, pod).Info.Pid
		id := d.create(t, pod, cricContainer(name, "sleep", "3600"), podCfg)
		d.crictl("start", id).must(t)
		cpid := d.waitState(t, id, "CONTAINER_RUNNING").Info.Pid
		for _, p := range []struct {
			pid  int
			want string
		}{{ppid, "sleep 2147483647"}, {cpid, "sleep 3600"}} {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.pid))
			if got := strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " "); err != nil || got != p.want {
				t.Errorf("pod %d: pid %d runs %q (%v), want %q", i, p.pid, got, err, p.want)
			}
		}
		for _, ns := range []string{"net", "ipc", "uts"} {
			if nsInode(t, fmt.Sprintf("/proc/%d/ns/%s", ppid, ns)) != nsInode(t, fmt.Sprintf("/proc/%d/ns/%s", cpid, ns)) {
				t.Errorf("pod %d: container is not in the pause's %s namespace", i, ns)
			}
		}
		d.crictl("rmp", "-f", pod).must(t)
	}
}
