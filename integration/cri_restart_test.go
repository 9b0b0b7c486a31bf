package integration

import (
	"fmt"
	"strings"
	"testing"
)

// TestCRIRestartTenPods is issue 10's crash point: corrald is killed with -9 while ten pods run a
// container each; after its restart every pod is ready with the same IP and every container is
// running with the same pid, and stopping and removing them leaves no network behind.
func TestCRIRestartTenPods(t *testing.T) {
	d := startCRIContainers(t, "")
	type pod struct {
		id, ctr, ip string
		pid         int
	}
	var pods []pod
	for i := range 10 {
		name := fmt.Sprintf("ten-%d", i)
		cfg := cricPod(t, name)
		p := pod{id: d.runp(t, "runc", cfg)}
		p.ctr = d.create(t, p.id, cricContainer(name, "sleep", "1000"), cfg)
		d.crictl("start", p.ctr).must(t)
		p.ip = d.inspectp(t, p.id).Status.Network.IP
		p.pid = d.waitState(t, p.ctr, "CONTAINER_RUNNING").Info.Pid
		if !strings.HasPrefix(p.ip, criSubnet) {
			t.Fatalf("pod %s has IP %q, want one in %s0/24", name, p.ip, criSubnet)
		}
		pods = append(pods, p)
	}
	d.restart()
	for _, p := range pods {
		st := d.inspectp(t, p.id)
		if st.Status.State != "SANDBOX_READY" || st.Status.Network.IP != p.ip {
			t.Errorf("pod %s after kill -9 of corrald: %s, IP %s; want SANDBOX_READY, IP %s", p.id, st.Status.State, st.Status.Network.IP, p.ip)
		}
		if c := d.inspect(t, p.ctr); c.Status.State != "CONTAINER_RUNNING" || c.Info.Pid != p.pid {
			t.Errorf("container %s after kill -9 of corrald: %s, pid %d; want CONTAINER_RUNNING, pid %d", p.ctr, c.Status.State, c.Info.Pid, p.pid)
		}
	}
	if n := len(strings.Fields(d.crictl("ps", "-q").must(t))); n != len(pods) {
		t.Errorf("crictl ps after the restart lists %d containers, want %d", n, len(pods))
	}
	for _, p := range pods {
		d.crictl("stopp", p.id).must(t)
		d.crictl("rmp", p.id).must(t)
	}
	d.assertNoNetworkLeft(t, "")
}
