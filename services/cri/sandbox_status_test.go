package cri

import (
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestMatches(t *testing.T) {
	sb := &sandbox{id: "abcdef0123", state: runtimeapi.PodSandboxState_SANDBOX_READY,
		cfg: &runtimeapi.PodSandboxConfig{Labels: map[string]string{"app": "web", "tier": "front"}}}
	ready := &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}
	notReady := &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_NOTREADY}
	for _, tc := range []struct {
		name   string
		filter *runtimeapi.PodSandboxFilter
		want   bool
	}{
		{"no filter", nil, true},
		{"empty filter", &runtimeapi.PodSandboxFilter{}, true},
		{"id", &runtimeapi.PodSandboxFilter{Id: "abcdef0123"}, true},
		{"id prefix", &runtimeapi.PodSandboxFilter{Id: "abc"}, true},
		{"other id", &runtimeapi.PodSandboxFilter{Id: "abd"}, false},
		{"longer id", &runtimeapi.PodSandboxFilter{Id: "abcdef01234"}, false},
		{"state", &runtimeapi.PodSandboxFilter{State: ready}, true},
		{"other state", &runtimeapi.PodSandboxFilter{State: notReady}, false},
		{"label", &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"app": "web"}}, true},
		{"labels", &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"app": "web", "tier": "front"}}, true},
		{"label value", &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"app": "db"}}, false},
		{"missing label", &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"zone": "a"}}, false},
		{"all", &runtimeapi.PodSandboxFilter{Id: "abc", State: ready, LabelSelector: map[string]string{"app": "web"}}, true},
	} {
		if got := matches(tc.filter, sb); got != tc.want {
			t.Errorf("%s: matches = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPodName(t *testing.T) {
	md := &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "default", Uid: "u1", Attempt: 2}
	if got := podName(md); got != "web_default_u1_2" {
		t.Fatalf("podName = %q", got)
	}
}

func TestResolvConf(t *testing.T) {
	got, err := resolvConf(&runtimeapi.DNSConfig{Servers: []string{"10.0.0.10"}, Searches: []string{"ns.svc", "svc"}, Options: []string{"ndots:5"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "search ns.svc svc\nnameserver 10.0.0.10\noptions ndots:5\n"; string(got) != want {
		t.Fatalf("resolvConf = %q, want %q", got, want)
	}
}

func TestSplitSysctls(t *testing.T) {
	net, rest := splitSysctls(map[string]string{"net.ipv4.ip_forward": "1", "net/ipv4/conf/eth0.100/rp_filter": "0", "kernel.shm_rmid_forced": "1", "network": "x"})
	if len(net) != 2 || net["net.ipv4.ip_forward"] != "1" || net["net/ipv4/conf/eth0.100/rp_filter"] != "0" {
		t.Errorf("net sysctls %v", net)
	}
	if len(rest) != 2 || rest["kernel.shm_rmid_forced"] != "1" || rest["network"] != "x" {
		t.Errorf("other sysctls %v", rest)
	}
}
