package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestLCRCRISecurity checks on the lxc handler what the OCI → LXC translation now expresses: IPC
// sysctls under the read-only /proc/sys, the default and a localhost seccomp profile, and a
// privileged container's host device nodes.
func TestLCRCRISecurity(t *testing.T) {
	requireTool(t, "lxc-execute")
	d := startCRIContainers(t, "")
	podCfg := cricPod(t, "lcrc-sec")
	podCfg.Metadata.Name, podCfg.Hostname = "lcrc-sec", "lcrc-sec"
	podCfg.Linux.Sysctls = map[string]string{"kernel.shm_rmid_forced": "1", "fs.mqueue.msg_max": "17"}
	pod := d.runp(t, "lxc", podCfg)
	profile := filepath.Join(t.TempDir(), "no-mkdir.json")
	if err := os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sc   *runtimeapi.LinuxContainerSecurityContext
		cmd  string
		want string
	}{
		{"sysctl", nil, "cat /proc/sys/kernel/shm_rmid_forced /proc/sys/fs/mqueue/msg_max; grep -c ' /proc/sys .*ro,' /proc/mounts", "1\n17\n1"},
		{"seccomp-default", &runtimeapi.LinuxContainerSecurityContext{Seccomp: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}},
			"grep Seccomp: /proc/self/status", "Seccomp:\t2"},
		{"seccomp-localhost", &runtimeapi.LinuxContainerSecurityContext{Seccomp: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: profile}},
			"mkdir /tmp/x 2>&1 || echo refused", "mkdir: can't create directory '/tmp/x': Operation not permitted\nrefused"},
		{"privileged", &runtimeapi.LinuxContainerSecurityContext{Privileged: true}, "test -c /dev/kmsg && grep -c Seccomp:.0 /proc/self/status", "1"},
	} {
		cfg := cricContainer("lcrc-"+tc.name, "sleep", "3600")
		cfg.Metadata.Name = "lcrc-" + tc.name
		cfg.Linux.SecurityContext = tc.sc
		id := d.create(t, pod, cfg, podCfg)
		if r := d.crictl("start", id); r.code != 0 {
			t.Errorf("%s: start: %s%s", tc.name, r.stdout, r.stderr)
			continue
		}
		r := d.crictl("exec", "-s", id, "sh", "-c", tc.cmd)
		if got := strings.TrimSpace(r.stdout); got != tc.want {
			t.Errorf("%s: %q gave %q (exit %d, %s), want %q", tc.name, tc.cmd, got, r.code, r.stderr, tc.want)
		}
	}
	d.crictl("stopp", pod).must(t)
	d.crictl("rmp", pod).must(t)
}
