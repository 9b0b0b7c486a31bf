package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestCRIPodLifecycle runs a pod on the runc, lxc and shim v2 handlers: it is ready with an IP from the
// bridge's subnet in the network namespace corrald made, its own hostname, sysctls and cgroup
// parent, and an oom_score_adj not below corrald's; stopp and rmp leave no veth, namespace, lease or
// iptables rule, and no container.
func TestCRIPodLifecycle(t *testing.T) {
	d := startCRI(t, "", true)
	for _, tc := range []struct{ handler, runtime string }{{"runc", "runc"}, {"lxc", "lcr"}, {"v2", "io.containerd.runc.v2"}} {
		t.Run(tc.handler, func(t *testing.T) {
			requireRuntime(t, tc.runtime)
			cfg := criPod(tc.handler)
			cfg.Labels = map[string]string{"cri-test": tc.handler}
			cfg.Linux.CgroupParent = "/cri-it-" + tc.handler
			cfg.Linux.Sysctls = map[string]string{"net.ipv4.ip_local_port_range": "20000 30000"}
			cfg.PortMappings = []*runtimeapi.PortMapping{{HostPort: 12871, ContainerPort: 80, HostIp: "127.0.0.1"}}
			id := d.runp(t, tc.handler, cfg)

			out := d.crictl("pods", "--label", "cri-test="+tc.handler).must(t)
			if !strings.Contains(out, id[:13]) || !strings.Contains(out, "Ready") || !strings.Contains(out, tc.handler) {
				t.Errorf("crictl pods:\n%s", out)
			}
			st := d.inspectp(t, id)
			if st.Status.State != "SANDBOX_READY" || !strings.HasPrefix(st.Status.Network.IP, criSubnet) || st.Info.Runtime != tc.runtime {
				t.Fatalf("inspectp: %+v", st)
			}
			pid := st.Info.Pid
			if nsInode(t, fmt.Sprintf("/proc/%d/ns/net", pid)) != nsInode(t, st.Info.NetNS) ||
				!strings.HasPrefix(st.Info.NetNS, filepath.Join(d.State(), "cri", "netns")+"/") {
				t.Errorf("pause (pid %d) is not in the pod's network namespace %s", pid, st.Info.NetNS)
			}
			if out := nsenter(t, pid, "-n", "ip", "-4", "-o", "addr", "show", "eth0"); !strings.Contains(out, st.Status.Network.IP+"/24") {
				t.Errorf("eth0 in the pod: %s", out)
			}
			if out := nsenter(t, pid, "-u", "hostname"); strings.TrimSpace(out) != "cri-"+tc.handler {
				t.Errorf("pod hostname %q", out)
			}
			if out := nsenter(t, pid, "-n", "cat", "/proc/sys/net/ipv4/ip_local_port_range"); strings.Join(strings.Fields(out), " ") != "20000 30000" {
				t.Errorf("sysctl net.ipv4.ip_local_port_range = %q", out)
			}
			if cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); !strings.Contains(string(cg), "/cri-it-"+tc.handler+"/") {
				t.Errorf("pause's cgroups are not under the parent:\n%s", cg)
			}
			if own, pod := readFile(t, fmt.Sprintf("/proc/%d/oom_score_adj", d.cmd.Process.Pid)), readFile(t, fmt.Sprintf("/proc/%d/oom_score_adj", pid)); own != pod {
				t.Errorf("pause oom_score_adj %s, want corrald's %s", pod, own)
			}
			if out, _ := exec.Command("iptables-save", "-t", "nat").Output(); !strings.Contains(string(out), id) {
				t.Errorf("no hostPort rule for the pod in iptables' nat table")
			}

			d.crictl("stopp", id).must(t)
			if st := d.inspectp(t, id); st.Status.State != "SANDBOX_NOTREADY" {
				t.Errorf("after stopp: %+v", st)
			}
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
				t.Errorf("pause %d still runs after stopp", pid)
			}
			d.assertNoNetworkLeft(t, id)
			d.crictl("stopp", id).must(t) // again: nothing to do
			d.crictl("rmp", id).must(t)
			if out := d.crictl("pods", "-q").must(t); strings.Contains(out, id) {
				t.Errorf("crictl pods after rmp: %s", out)
			}
			if out := d.ctr("-n", "k8s.io", "containers", "ls", "-q").must(t); strings.Contains(out, id) {
				t.Errorf("ctr containers ls after rmp: %s", out)
			}
			if _, err := os.Stat(filepath.Join(d.State(), "cri", "sandboxes", id)); err == nil {
				t.Errorf("sandbox directory left")
			}
		})
	}
}

// TestCRIHostNetworkPod checks that a host-network pod shares the host's network namespace and
// gets no IP, no namespace and no lease.
func TestCRIHostNetworkPod(t *testing.T) {
	d := startCRI(t, "[cri.runtimes.runsc]\nruntime = \"runsc\"\n", true)
	for _, handler := range []string{"runc", "runsc"} {
		t.Run(handler, func(t *testing.T) {
			requireTool(t, handler)
			cfg := criPod("host-" + handler)
			cfg.Linux.SecurityContext = &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE}}
			id := d.runp(t, handler, cfg)
			st := d.inspectp(t, id)
			if st.Status.State != "SANDBOX_READY" || st.Status.Network.IP != "" || st.Info.NetNS != "" {
				t.Fatalf("inspectp: %+v", st)
			}
			// On runsc, the pid is the gVisor sandbox's, which uses the host's stack there.
			if nsInode(t, fmt.Sprintf("/proc/%d/ns/net", st.Info.Pid)) != nsInode(t, "/proc/self/ns/net") {
				t.Errorf("host-network pause is not in the host's network namespace")
			}
			d.assertNoNetworkLeft(t, id)
			d.crictl("stopp", id).must(t)
			d.crictl("rmp", id).must(t)
		})
	}
}

// TestCRIRunErrors checks that an unknown handler and a missing sandbox image are clear errors that
// leave nothing, and that stopping or removing an unknown pod succeeds.
func TestCRIRunErrors(t *testing.T) {
	d := startCRI(t, "", false)
	r := d.crictl("runp", "--runtime", "nope", podFile(t, criPod("nope")))
	if r.code == 0 || !strings.Contains(r.stderr, `unknown runtime handler \"nope\": configured are \"\" (default_runtime), lxc, runc, v2`) {
		t.Errorf("runp on an unknown handler: exit %d\n%s", r.code, r.stderr)
	}
	r = d.crictl("runp", "--runtime", "runc", podFile(t, criPod("noimage")))
	if r.code == 0 || !strings.Contains(r.stderr, "failed to pull sandbox image registry.k8s.io/pause:3.9 (cri.sandbox_image)") {
		t.Errorf("runp without the sandbox image: exit %d\n%s", r.code, r.stderr)
	}
	if out := d.crictl("pods", "-q").must(t); strings.TrimSpace(out) != "" {
		t.Errorf("pods after failed runs: %s", out)
	}
	d.assertNoNetworkLeft(t, "")
	if sbs, _ := os.ReadDir(filepath.Join(d.State(), "cri", "sandboxes")); len(sbs) > 0 {
		t.Errorf("sandbox directories left: %v", sbs)
	}
	if out := d.ctr("-n", "k8s.io", "containers", "ls", "-q").must(t); strings.TrimSpace(out) != "" {
		t.Errorf("containers after failed runs: %s", out)
	}
	rs := runtimeapi.NewRuntimeServiceClient(d.grpcConn())
	unknown := strings.Repeat("cr1", 21) + "a"
	if _, err := rs.StopPodSandbox(context.Background(), &runtimeapi.StopPodSandboxRequest{PodSandboxId: unknown}); err != nil {
		t.Errorf("StopPodSandbox of an unknown id: %v", err)
	}
	if _, err := rs.RemovePodSandbox(context.Background(), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: unknown}); err != nil {
		t.Errorf("RemovePodSandbox of an unknown id: %v", err)
	}
}

// TestCRIRunCleanup checks that a pod whose pause container fails to start after its network was set
// up leaves nothing, and that a pod's name cannot be run twice.
func TestCRIRunCleanup(t *testing.T) {
	requireTool(t, "lxc-execute")
	d := startCRI(t, "", true)
	cfg := criPod("fail")
	cfg.Linux.Sysctls = map[string]string{"kernel.shm_rmid_forced": "x"} // the kernel refuses it as LXC starts the pause
	r := d.crictl("runp", "--runtime", "lxc", podFile(t, cfg))
	if r.code == 0 || !strings.Contains(r.stderr, "failed to start") {
		t.Fatalf("runp with a sysctl the kernel refuses: exit %d\n%s", r.code, r.stderr)
	}
	d.assertNoNetworkLeft(t, "")
	if out := d.ctr("-n", "k8s.io", "containers", "ls", "-q").must(t); strings.TrimSpace(out) != "" {
		t.Errorf("containers after a failed run: %s", out)
	}
	if out := d.ctr("-n", "k8s.io", "snapshots", "ls").must(t); strings.Contains(out, "Active") {
		t.Errorf("active snapshots after a failed run:\n%s", out)
	}
	if sbs, _ := os.ReadDir(filepath.Join(d.State(), "cri", "sandboxes")); len(sbs) > 0 {
		t.Errorf("sandbox directories left: %v", sbs)
	}

	id := d.runp(t, "runc", criPod("twice"))
	if r := d.crictl("runp", "--runtime", "runc", podFile(t, criPod("twice"))); r.code == 0 ||
		!strings.Contains(r.stderr, `pod sandbox name \"cri-twice_cri-test_cri-uid-twice_1\" is reserved for `+id) {
		t.Errorf("second runp of a name: exit %d\n%s", r.code, r.stderr)
	}
	d.crictl("rmp", "-f", id).must(t)
	id2 := d.runp(t, "runc", criPod("twice")) // free again once removed
	d.crictl("rmp", "-f", id2).must(t)
	d.assertNoNetworkLeft(t, id)
}

// TestCRIPodSurvivesRestart kills corrald with SIGKILL under running pods on runc and lxc: after
// the restart they are ready with the same pause processes and IPs, and stopping them then leaves
// nothing.
func TestCRIPodSurvivesRestart(t *testing.T) {
	requireTool(t, "lxc-execute")
	d := startCRI(t, "", true)
	ids := map[string]string{}
	before := map[string]podStatus{}
	for _, h := range []string{"runc", "lxc"} {
		ids[h] = d.runp(t, h, criPod("restart-"+h))
		before[h] = d.inspectp(t, ids[h])
	}
	d.restart()
	for h, id := range ids {
		after := d.inspectp(t, id)
		if after.Status.State != "SANDBOX_READY" || after.Status.Network.IP != before[h].Status.Network.IP || after.Info.Pid != before[h].Info.Pid {
			t.Errorf("%s pod after kill -9 of corrald: %+v, before %+v", h, after, before[h])
		}
	}
	for _, id := range ids {
		d.crictl("stopp", id).must(t)
		d.crictl("rmp", id).must(t)
	}
	for _, id := range ids {
		d.assertNoNetworkLeft(t, id)
	}
}

// nsenter runs a command in namespaces of pid.
func nsenter(t *testing.T, pid int, args ...string) string {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"-t", fmt.Sprint(pid)}, args...)...).CombinedOutput()
	if err != nil {
		t.Errorf("nsenter %v: %v: %s", args, err, out)
	}
	return string(out)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
