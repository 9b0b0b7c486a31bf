package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CRI test network: its own bridge, subnet and IPAM dir, apart from cri-harness's critest0.
const (
	criBridge = "corralcri0"
	criSubnet = "10.88.79."
)

// criDaemon is a corrald serving the CRI with the handlers runc → runc, lxc → lcr and
// v2 → io.containerd.runc.v2, a CNI network
// of its own in dir/net.d, and the pause image registry.k8s.io/pause:3.9 imported into k8s.io.
type criDaemon struct {
	*daemon
	crictlBin string
	netd      string // the CNI conf_dir
	hostsDir  string // the [cri.registry] config_path: _default sends every registry to a closed port
	ipam      string // host-local's data dir: one file per leased IP
}

// requireCRITools returns crictl: on $PATH, or in $CRI_HARNESS/bin, where cri-harness's setup.sh
// builds it. It also needs Debian's CNI plugins. Without them the test is skipped, except in CI.
func requireCRITools(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"bridge", "host-local", "loopback", "portmap"} {
		if _, err := os.Stat(filepath.Join("/usr/lib/cni", p)); err != nil {
			missing(t, fmt.Sprintf("CNI plugin %s (Debian's containernetworking-plugins)", p), err)
		}
	}
	requireTool(t, "iptables-save")
	if p, err := exec.LookPath("crictl"); err == nil {
		return p
	}
	p := filepath.Join(os.Getenv("CRI_HARNESS"), "bin", "crictl")
	if _, err := os.Stat(p); err != nil || os.Getenv("CRI_HARNESS") == "" {
		missing(t, "crictl (run ../shared/cri-harness/setup.sh WORK and set CRI_HARNESS=WORK)", err)
	}
	return p
}

// requireRuntime fails or skips the test, as requireTool does, without the tool runtime needs.
func requireRuntime(t *testing.T, runtime string) {
	t.Helper()
	switch runtime {
	case "lcr":
		requireTool(t, "lxc-execute")
	case "io.containerd.runc.v2":
		requireTool(t, "containerd-shim-runc-v2")
	case "runsc":
		requireTool(t, "runsc")
	}
}

// missing skips the test for want, or fails it under CI.
func missing(t *testing.T, want string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing, and CI must run this test: %v", want, err)
	}
	t.Skipf("%s is missing: %v", want, err)
}

// startCRI starts corrald with the CRI configured for tests, plus extra TOML.
func startCRI(t *testing.T, extra string, pause bool) *criDaemon {
	t.Helper()
	crictl := requireCRITools(t)
	dir := t.TempDir()
	ipam := filepath.Join(dir, "ipam")
	netd := filepath.Join(dir, "net.d")
	if err := os.MkdirAll(netd, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`{"cniVersion": "1.0.0", "name": "corral-cri-it", "plugins": [
  {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": %q, "ranges": [[{"subnet": "%s0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "loopback"}]}`, criBridge, ipam, criSubnet)
	if err := os.WriteFile(filepath.Join(netd, "10-corral-cri-it.conflist"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// No test may reach a registry off this machine: one that no other hosts.toml names goes to a
	// closed port of 127.0.0.1.
	hosts := writeHostsToml(t, filepath.Join(dir, "certs.d"), "_default", `server = "http://127.0.0.1:1"`+"\n")
	d := &criDaemon{daemon: startDaemon(t, fmt.Sprintf(`
[cri.runtimes.runc]
runtime = "runc"
[cri.runtimes.lxc]
runtime = "lcr"
[cri.runtimes.v2]
runtime = "io.containerd.runc.v2"
[cri.cni]
conf_dir = %q
[cri.registry]
config_path = %q
%s`, netd, hosts, extra)), crictlBin: crictl, netd: netd, hostsDir: hosts, ipam: filepath.Join(ipam, "corral-cri-it")}
	t.Cleanup(func() {
		// Pods a failed test left: stop and remove them through the CRI while corrald still runs.
		for _, id := range strings.Fields(d.crictlQuiet("pods", "-q").stdout) {
			d.crictlQuiet("stopp", id)
			d.crictlQuiet("rmp", id)
		}
	})
	if pause {
		tar := imageTarCmd(t, t.TempDir(), "registry.k8s.io/pause:3.9", []string{"sleep", "2147483647"})
		d.ctr("-n", "k8s.io", "images", "import", tar).must(t)
	}
	return d
}

// crictl runs crictl against d's CRI.
func (d *criDaemon) crictl(args ...string) result {
	d.t.Helper()
	return runCmd(d.t, d.crictlBin, d.crictlArgs(args)...)
}

// crictlQuiet is crictl for clean-ups: it neither fails nor logs.
func (d *criDaemon) crictlQuiet(args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, _ := exec.CommandContext(ctx, d.crictlBin, d.crictlArgs(args)...).Output()
	return result{stdout: string(out)}
}

func (d *criDaemon) crictlArgs(args []string) []string {
	ep := "unix://" + d.Address()
	return append([]string{"--config", "/dev/null", "--runtime-endpoint", ep, "--image-endpoint", ep, "--timeout", "60s"}, args...)
}

// runp runs a pod from cfg on handler, and returns its id.
func (d *criDaemon) runp(t *testing.T, handler string, cfg *runtimeapi.PodSandboxConfig) string {
	t.Helper()
	return strings.TrimSpace(d.crictl("runp", "--runtime", handler, podFile(t, cfg)).must(t))
}

// podFile writes cfg to a file for crictl.
func podFile(t *testing.T, cfg *runtimeapi.PodSandboxConfig) string {
	return jsonFile(t, "pod.json", cfg)
}

// jsonFile writes v as JSON to a file name in a temporary directory and returns its path.
func jsonFile(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// podStatus is what `crictl inspectp` prints that the tests read.
type podStatus struct {
	Status struct {
		ID       string              `json:"id"`
		State    string              `json:"state"`
		Network  struct{ IP string } `json:"network"`
		Metadata struct{ Name string }
	} `json:"status"`
	Info struct {
		Pid     int    `json:"pid"`
		Runtime string `json:"runtime"`
		NetNS   string `json:"netns"`
	} `json:"info"`
}

// inspectp returns the status of pod id.
func (d *criDaemon) inspectp(t *testing.T, id string) podStatus {
	t.Helper()
	var st podStatus
	if err := json.Unmarshal([]byte(d.crictl("inspectp", id).must(t)), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// criPod is a pod config named cri-<name>.
func criPod(name string) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "cri-" + name, Namespace: "cri-test", Uid: "cri-uid-" + name, Attempt: 1},
		Hostname: "cri-" + name, Linux: &runtimeapi.LinuxPodSandboxConfig{},
	}
}

// assertNoNetworkLeft checks that pod id left no veth on the bridge, no network namespace under
// corrald's state, no IPAM lease and no iptables rule naming it.
func (d *criDaemon) assertNoNetworkLeft(t *testing.T, id string) {
	t.Helper()
	if ports, _ := os.ReadDir(filepath.Join("/sys/class/net", criBridge, "brif")); len(ports) > 0 {
		t.Errorf("bridge %s still has ports %v", criBridge, ports)
	}
	if ns, _ := os.ReadDir(filepath.Join(d.State(), "cri", "netns")); len(ns) > 0 {
		t.Errorf("network namespaces left: %v", ns)
	}
	leases, _ := os.ReadDir(d.ipam)
	for _, l := range leases {
		if strings.HasPrefix(l.Name(), criSubnet) {
			t.Errorf("IPAM lease left: %s", l.Name())
		}
	}
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		t.Fatalf("iptables-save: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if (id != "" && strings.Contains(l, id)) || strings.Contains(l, criSubnet) {
			t.Errorf("iptables rule left: %s", l)
		}
	}
}

// nsInode is the inode of a namespace file, which identifies the namespace.
func nsInode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}
