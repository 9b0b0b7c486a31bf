package shim

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestPodSandbox(t *testing.T) {
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		want        string
	}{
		{"container of a pod", map[string]string{annContainerType: "container", annSandboxID: "sb1"}, "sb1"},
		{"the pause", map[string]string{annContainerType: "sandbox", annSandboxID: "c1"}, ""},
		{"no annotations", nil, ""},
		{"no sandbox id", map[string]string{annContainerType: "container"}, ""},
		{"itself", map[string]string{annContainerType: "container", annSandboxID: "c1"}, ""},
		{"a path", map[string]string{annContainerType: "container", annSandboxID: "../x"}, ""},
		{"dot-dot", map[string]string{annContainerType: "container", annSandboxID: ".."}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := podSandbox("c1", &specs.Spec{Annotations: tc.annotations}); got != tc.want {
				t.Errorf("podSandbox = %q, want %q", got, tc.want)
			}
		})
	}
	if got := sandboxRoot("/b/k8s.io/c1", "sb1"); got != "/b/k8s.io/sb1/runc" {
		t.Errorf("sandboxRoot = %q", got)
	}
}

func TestGvisorNetwork(t *testing.T) {
	netns := func(path string) *specs.Linux {
		return &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: path}}}
	}
	for _, tc := range []struct {
		name  string
		linux *specs.Linux
		want  string
	}{
		{"new namespace", netns(""), "none"},
		{"a pod's namespace", netns("/run/netns/pod"), "host"},
		{"the host's", &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}}}, "host"},
		{"no linux section", nil, "host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := gvisorNetwork(&specs.Spec{Linux: tc.linux}); got != tc.want {
				t.Errorf("gvisorNetwork = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGvisorArgs(t *testing.T) {
	podNet := &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/run/netns/pod"}}}
	newNet := &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.NetworkNamespace}}}
	for _, tc := range []struct {
		name  string
		linux *specs.Linux
		args  []string
		want  []string
	}{
		{"pod network", podNet, []string{"--platform=ptrace"}, []string{"--network=host", "--oci-seccomp", "--platform=ptrace"}},
		{"new namespace", newNet, nil, []string{"--network=none", "--oci-seccomp"}},
		{"configured network", podNet, []string{"--network=sandbox"}, []string{"--oci-seccomp", "--network=sandbox"}},
		{"configured seccomp", newNet, []string{"-oci-seccomp=false"}, []string{"--network=none", "-oci-seccomp=false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := gvisorArgs(&specs.Spec{Linux: tc.linux}, tc.args)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("gvisorArgs = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSetsFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"--platform=ptrace"}, false},
		{[]string{"--network=sandbox"}, true},
		{[]string{"-network", "host"}, true},
		{[]string{"--debug", "--network", "none"}, true},
		{[]string{"--networkless"}, false},
		{[]string{"network=host"}, false},
	} {
		if got := setsFlag(tc.args, "network"); got != tc.want {
			t.Errorf("setsFlag(%q, network) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
