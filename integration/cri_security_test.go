package integration

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
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

// TestCRISupplementalGroupsPolicy runs the image's user app (2000:2001, in group staff 3000 of the
// image's /etc/group) with supplemental group 1234 under each policy on runc, runsc and lxc: the
// first process's groups (its log), an exec's and ContainerStatus's user are the primary group,
// 1234 and, under Merge only, 3000. On lxc the exec is refused instead (lxc-attach sets no
// supplementary groups). Status advertises the policies.
func TestCRISupplementalGroupsPolicy(t *testing.T) {
	d := startCRIContainers(t, "[cri.runtimes.runsc]\nruntime = \"runsc\"\n")
	rs := runtimeapi.NewRuntimeServiceClient(d.grpcConn())
	ctx := context.Background()
	if st, err := rs.Status(ctx, &runtimeapi.StatusRequest{}); err != nil || !st.GetFeatures().GetSupplementalGroupsPolicy() {
		t.Errorf("Status features %v, %v: no supplemental groups policy", st.GetFeatures(), err)
	}
	for _, h := range []struct{ handler, runtime string }{{"runc", "runc"}, {"runsc", "runsc"}, {"lxc", "lcr"}} {
		t.Run(h.handler, func(t *testing.T) {
			requireRuntime(t, h.runtime)
			podCfg := crifPod(t, "groups-"+h.handler)
			pod := d.runp(t, h.handler, podCfg)
			for _, tc := range []struct {
				policy runtimeapi.SupplementalGroupsPolicy
				groups []int64 // the status's, sorted
				idG    string  // the gid, then the others in ascending order, as Linux sorts them
			}{
				{runtimeapi.SupplementalGroupsPolicy_Merge, []int64{1234, 2001, 3000}, "2001 1234 3000"},
				{runtimeapi.SupplementalGroupsPolicy_Strict, []int64{1234, 2001}, "2001 1234"},
			} {
				cfg := crifContainer(fmt.Sprintf("groups-%s-%s", h.handler, tc.policy), "sh", "-c", "echo groups $(id -G); sleep 3600")
				cfg.Linux.SecurityContext = &runtimeapi.LinuxContainerSecurityContext{RunAsUser: &runtimeapi.Int64Value{Value: 2000},
					SupplementalGroups: []int64{1234}, SupplementalGroupsPolicy: tc.policy}
				id := d.create(t, pod, cfg, podCfg)
				d.crictl("start", id).must(t)
				if out := d.waitLog(t, id, "groups "); !strings.Contains(out, "groups "+tc.idG+"\n") {
					t.Errorf("%s: first process's groups %q, want %s", tc.policy, out, tc.idG)
				}
				st, err := rs.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
				if err != nil {
					t.Fatal(err)
				}
				u := st.GetStatus().GetUser().GetLinux()
				groups := slices.Sorted(slices.Values(u.GetSupplementalGroups()))
				if u.GetUid() != 2000 || u.GetGid() != 2001 || !slices.Equal(groups, tc.groups) {
					t.Errorf("%s: status user %v, want uid 2000 gid 2001 groups %v", tc.policy, u, tc.groups)
				}
				r := d.crictl("exec", "-s", id, "id", "-G")
				switch {
				case h.runtime == "lcr" && (r.code == 0 || !strings.Contains(r.stderr, "lxc-attach sets no supplementary groups")):
					t.Errorf("%s: exec on lxc: exit %d %s%s, want the refusal", tc.policy, r.code, r.stdout, r.stderr)
				case h.runtime != "lcr" && (r.code != 0 || strings.TrimSpace(r.stdout) != tc.idG):
					t.Errorf("%s: exec's groups: exit %d %q %s, want %s", tc.policy, r.code, r.stdout, r.stderr, tc.idG)
				}
			}
			d.crictl("rmp", "-f", pod).must(t)
		})
	}
}
