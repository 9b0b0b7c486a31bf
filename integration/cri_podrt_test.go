package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// crirHandlers are the handlers TestCRIPodRuntimes runs pods on, at once.
var crirHandlers = []struct{ handler, runtime string }{{"lxc", "lcr"}, {"runsc", "runsc"}}

// TestCRIPodRuntimes runs a pod with a container on the lxc handler and one on the runsc handler at
// the same time: runp, create, start, exec, logs, stats, stop, stopp and rmp work on each, the
// container runs in its pod (on runsc, in the pod's one gVisor sandbox), and nothing is left after.
func TestCRIPodRuntimes(t *testing.T) {
	requireTool(t, "lxc-execute")
	requireTool(t, "runsc")
	d := startCRIContainers(t, "[cri.runtimes.runsc]\nruntime = \"runsc\"\n")
	type pod struct {
		id, ctr  string
		hostPort int
	}
	pods := map[string]pod{}
	for _, h := range crirHandlers {
		podCfg := cricPod(t, "crir-"+h.handler)
		podCfg.Metadata.Name = "crir-" + h.handler
		podCfg.Hostname = "crir-" + h.handler
		podCfg.PortMappings = []*runtimeapi.PortMapping{{HostPort: int32(freePort(t)), ContainerPort: 8080, HostIp: "127.0.0.1"}}
		p := pod{id: d.runp(t, h.handler, podCfg), hostPort: int(podCfg.PortMappings[0].HostPort)}
		cfg := cricContainer("crir-"+h.handler, "sh", "-c", `mkdir /tmp/www; echo "web $(hostname)" > /tmp/www/index.html; httpd -p 8080 -h /tmp/www; echo "hello $(hostname)"; trap "echo term; exit 3" TERM; while true; do sleep 1; done`)
		cfg.Metadata.Name = "crir-" + h.handler
		p.ctr = d.create(t, p.id, cfg, podCfg)
		d.crictl("start", p.ctr).must(t)
		// A container that never starts, which rmp removes with its pod.
		idle := cricContainer("crir-idle-"+h.handler, "true")
		idle.Metadata.Name = "crir-idle-" + h.handler
		d.create(t, p.id, idle, podCfg)
		pods[h.handler] = p
	}
	// Both pods run at once.
	for _, h := range crirHandlers {
		p := pods[h.handler]
		pst := d.inspectp(t, p.id)
		if pst.Status.State != "SANDBOX_READY" || pst.Info.Runtime != h.runtime {
			t.Errorf("%s pod: %+v", h.handler, pst)
		}
		st := d.waitState(t, p.ctr, "CONTAINER_RUNNING")
		if st.Info.Runtime != h.runtime || st.Info.SandboxID != p.id {
			t.Errorf("%s container: %+v", h.handler, st)
		}
		// On runsc the container runs in the pause's gVisor sandbox, whose pid both report; on lxc
		// it is a process of its own in the pause's namespaces.
		if sameSandbox := st.Info.Pid == pst.Info.Pid; sameSandbox != (h.runtime == "runsc") {
			t.Errorf("%s: container pid %d, pause pid %d", h.handler, st.Info.Pid, pst.Info.Pid)
		}
		if h.runtime == "lcr" && nsInode(t, fmt.Sprintf("/proc/%d/ns/net", st.Info.Pid)) != nsInode(t, pst.Info.NetNS) {
			t.Errorf("lxc container is not in its pod's network namespace")
		}
	}
	for _, h := range crirHandlers {
		t.Run(h.handler, func(t *testing.T) {
			p := pods[h.handler]
			d.waitLog(t, p.ctr, "hello crir-"+h.handler)
			if out := d.crictl("exec", "-s", p.ctr, "sh", "-c", "echo exec-$(hostname)").must(t); strings.TrimSpace(out) != "exec-crir-"+h.handler {
				t.Errorf("crictl exec: %q", out)
			}
			if r := d.crictl("exec", "-s", p.ctr, "sh", "-c", "exit 7"); r.code == 0 {
				t.Errorf("crictl exec of exit 7: exit 0")
			}
			// The pod's IP is the container's, on runsc too (gVisor uses the pod's network namespace
			// through the host's stack): httpd answers on it, and on the hostPort CNI mapped.
			ip := d.inspectp(t, p.id).Status.Network.IP
			if out := d.crictl("exec", "-s", p.ctr, "ip", "-4", "-o", "addr").must(t); !strings.HasPrefix(ip, criSubnet) || !strings.Contains(out, ip+"/24") {
				t.Errorf("pod IP %q; addresses in the %s pod:\n%s", ip, h.handler, out)
			}
			want := "web crir-" + h.handler + "\n"
			if body := httpGet(fmt.Sprintf("http://%s:8080/", ip)); body != want {
				t.Errorf("GET from the pod's IP %s: %q", ip, body)
			}
			if body := httpGet(fmt.Sprintf("http://127.0.0.1:%d/", p.hostPort)); body != want {
				t.Errorf("GET from hostPort %d: %q", p.hostPort, body)
			}
			d.checkStats(t, p.ctr)
			d.crictl("stop", "--timeout", "10", p.ctr).must(t)
			if st := d.inspect(t, p.ctr); st.Status.State != "CONTAINER_EXITED" || st.Status.ExitCode != 3 {
				t.Errorf("stopped container: %+v", st.Status)
			}
			d.crictl("stopp", p.id).must(t)
			if st := d.inspectp(t, p.id); st.Status.State != "SANDBOX_NOTREADY" {
				t.Errorf("after stopp: %+v", st.Status)
			}
			d.crictl("rmp", p.id).must(t)
		})
	}
	for _, p := range pods {
		d.assertNoNetworkLeft(t, p.id)
	}
	if out := d.crictl("pods", "-q").must(t) + d.crictl("ps", "-a", "-q").must(t); strings.TrimSpace(out) != "" {
		t.Errorf("pods or containers left: %s", out)
	}
	if out := d.ctr("-n", "k8s.io", "containers", "ls", "-q").must(t) + d.ctr("-n", "k8s.io", "tasks", "ls", "-q").must(t); strings.TrimSpace(out) != "" {
		t.Errorf("containers or tasks left: %s", out)
	}
	if out := d.ctr("-n", "k8s.io", "snapshots", "ls").must(t); strings.Contains(out, "Active") {
		t.Errorf("active snapshots left:\n%s", out)
	}
	if n := countMounts(t, d.dir); n > 0 {
		t.Errorf("%d mounts left under %s", n, d.dir)
	}
	if bundles, _ := os.ReadDir(filepath.Join(d.State(), "bundles", "k8s.io")); len(bundles) > 0 {
		t.Errorf("bundles left: %v", bundles)
	}
}

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
