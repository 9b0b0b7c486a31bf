package integration

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// crifPod is a pod config named crif-<name>, logging to a fresh directory.
func crifPod(t *testing.T, name string) *runtimeapi.PodSandboxConfig {
	cfg := cricPod(t, name)
	cfg.Metadata.Name, cfg.Hostname = "crif-"+name, "crif-"+name
	return cfg
}

// crifContainer is a container config named crif-<name> running the busybox image with args.
func crifContainer(name string, args ...string) *runtimeapi.ContainerConfig {
	cfg := cricContainer(name, args...)
	cfg.Metadata.Name, cfg.LogPath = "crif-"+name, "crif-"+name+".log"
	return cfg
}

// capLine is the value of a capability line (CapBnd, CapEff ...) of a /proc/PID/status.
func capLine(t *testing.T, status, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `:\s+([0-9a-f]+)$`).FindStringSubmatch(status)
	if m == nil {
		t.Fatalf("no %s in status:\n%s", name, status)
	}
	return m[1]
}

// TestCRISecurityContextFixes checks on runc that "ALL" added capabilities are those corrald holds
// (root here lacks CAP_SYS_RESOURCE, which runc cannot grant), as are a privileged container's; that
// no_new_privs false leaves the process free to gain privileges (containerd's default spec sets
// it); and that run_as_group without a user is refused.
func TestCRISecurityContextFixes(t *testing.T) {
	d := startCRIContainers(t, "")
	podCfg := crifPod(t, "sec")
	pod := d.runp(t, "runc", podCfg)
	own, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	want := capLine(t, string(own), "CapEff")

	for _, tc := range []struct {
		name string
		sc   *runtimeapi.LinuxContainerSecurityContext
	}{
		{"allcaps", &runtimeapi.LinuxContainerSecurityContext{Capabilities: &runtimeapi.Capability{AddCapabilities: []string{"ALL"}}}},
		{"privileged", &runtimeapi.LinuxContainerSecurityContext{Privileged: true}},
	} {
		cfg := crifContainer(tc.name, "sleep", "3600")
		cfg.Linux.SecurityContext = tc.sc
		id := d.create(t, pod, cfg, podCfg)
		if r := d.crictl("start", id); r.code != 0 {
			t.Errorf("%s: start: %s%s", tc.name, r.stdout, r.stderr)
			continue
		}
		status := d.crictl("exec", "-s", id, "cat", "/proc/self/status").must(t)
		for _, line := range []string{"CapBnd", "CapEff"} {
			if got := capLine(t, status, line); got != want {
				t.Errorf("%s: %s %s, want corrald's own %s", tc.name, line, got, want)
			}
		}
	}

	for _, tc := range []struct {
		nnp  bool
		want string
	}{{false, "NoNewPrivs:\t0"}, {true, "NoNewPrivs:\t1"}} {
		cfg := crifContainer(fmt.Sprintf("nnp-%v", tc.nnp), "sleep", "3600")
		cfg.Linux.SecurityContext = &runtimeapi.LinuxContainerSecurityContext{NoNewPrivs: tc.nnp, RunAsUser: &runtimeapi.Int64Value{Value: 1000}}
		id := d.create(t, pod, cfg, podCfg)
		d.crictl("start", id).must(t)
		if status := d.crictl("exec", "-s", id, "cat", "/proc/self/status").must(t); !strings.Contains(status, tc.want) {
			t.Errorf("no_new_privs %v: no %q in the container's status:\n%s", tc.nnp, tc.want, status)
		}
	}

	cfg := crifContainer("group-only", "id")
	cfg.Linux.SecurityContext = &runtimeapi.LinuxContainerSecurityContext{RunAsGroup: &runtimeapi.Int64Value{Value: 1002}}
	r := d.crictl("create", "--no-pull", pod, ctrFile(t, cfg), podFile(t, podCfg))
	if r.code == 0 || !strings.Contains(r.stderr, "run_as_group 1002 needs run_as_user or run_as_username") {
		t.Errorf("create with run_as_group only: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	d.crictl("rmp", "-f", pod).must(t)
}
