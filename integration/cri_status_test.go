package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCRIVersionInfo checks crictl version and info: the handler → runtime mapping, the runtime and
// network conditions, and the cgroup driver.
func TestCRIVersionInfo(t *testing.T) {
	d := startCRI(t, "", false)
	out := d.crictl("version").must(t)
	for _, want := range []string{"RuntimeName:  corral", "RuntimeApiVersion:  v1"} {
		if !strings.Contains(out, want) {
			t.Errorf("crictl version: no %q in\n%s", want, out)
		}
	}
	var info struct {
		Config struct {
			Runtimes       map[string]string
			DefaultRuntime string
			SandboxImage   string
			CNINetwork     string
			Namespace      string
		}
		Status struct {
			Conditions []struct {
				Type   string
				Status bool
			}
		}
	}
	if err := json.Unmarshal([]byte(d.crictl("info").must(t)), &info); err != nil {
		t.Fatal(err)
	}
	c := info.Config
	if c.Runtimes["runc"] != "runc" || c.Runtimes["lxc"] != "lcr" || c.Runtimes["v2"] != "io.containerd.runc.v2" || len(c.Runtimes) != 3 || c.DefaultRuntime != "lcr" ||
		c.SandboxImage != "registry.k8s.io/pause:3.9" || c.CNINetwork != "corral-cri-it" || c.Namespace != "k8s.io" {
		t.Errorf("crictl info config: %+v", c)
	}
	ready := map[string]bool{}
	for _, cond := range info.Status.Conditions {
		ready[cond.Type] = cond.Status
	}
	if !ready["RuntimeReady"] || !ready["NetworkReady"] {
		t.Errorf("conditions %+v, want RuntimeReady and NetworkReady true", info.Status.Conditions)
	}
	if out := d.crictl("info").must(t); !strings.Contains(out, "cgroupfs") {
		t.Errorf("crictl info shows no cgroupfs driver:\n%s", out)
	}
}

// TestCRINetworkNotReady checks that a conf_dir without a network gives NetworkReady false, saying
// where corrald looked, and that the configuration is read again when it comes back.
func TestCRINetworkNotReady(t *testing.T) {
	d := startCRI(t, "", false)
	conf := filepath.Join(d.netd, "10-corral-cri-it.conflist")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(conf); err != nil {
		t.Fatal(err)
	}
	out := d.crictl("info").must(t)
	if !strings.Contains(out, `"NetworkPluginNotReady"`) || !strings.Contains(out, d.netd) {
		t.Errorf("crictl info with an empty conf_dir:\n%s", out)
	}
	if err := os.WriteFile(conf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := d.crictl("info").must(t); strings.Contains(out, `"NetworkPluginNotReady"`) {
		t.Errorf("crictl info once the network is back:\n%s", out)
	}
}

// TestCRIUnknownHandlerRuntime checks that corrald refuses to start when a handler maps to a runtime
// it does not accept, naming the handler.
func TestCRIUnknownHandlerRuntime(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	toml := "root = \"" + dir + "/root\"\nstate = \"" + dir + "/state\"\n[grpc]\naddress = \"" + dir + "/c.sock\"\n[cri.runtimes.kata]\nruntime = \"kata-qemu\"\n"
	if err := os.WriteFile(cfg, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(bins, "corrald"), "--config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `invalid cri.runtimes.kata: invalid runtime name "kata-qemu"`) {
		t.Fatalf("corrald with an unknown handler runtime: %v\n%s", err, out)
	}
}

// TestCRIImages checks the image service on an imported image: list, status with size, user and
// repo digests, filesystem info, removal, and that PullImage says it is not there yet.
func TestCRIImages(t *testing.T) {
	d := startCRI(t, "", true)
	ref := "localhost:5000/cri-test/busybox:1"
	d.ctr("-n", "k8s.io", "images", "import", imageTar(t, t.TempDir(), ref)).must(t)
	out := d.crictl("images").must(t)
	for _, want := range []string{"registry.k8s.io/pause", "localhost:5000/cri-test/busybox"} {
		if !strings.Contains(out, want) {
			t.Errorf("crictl images: no %s in\n%s", want, out)
		}
	}
	var st struct {
		Status struct {
			ID          string
			RepoTags    []string
			RepoDigests []string
			Size        string
		}
	}
	if err := json.Unmarshal([]byte(d.crictl("inspecti", ref).must(t)), &st); err != nil {
		t.Fatal(err)
	}
	s := st.Status
	if !strings.HasPrefix(s.ID, "sha256:") || len(s.RepoTags) != 1 || s.RepoTags[0] != ref || len(s.RepoDigests) != 1 ||
		!strings.HasPrefix(s.RepoDigests[0], "localhost:5000/cri-test/busybox@sha256:") || s.Size == "" || s.Size == "0" {
		t.Errorf("crictl inspecti %s: %+v", ref, s)
	}
	if out := d.crictl("imagefsinfo").must(t); !strings.Contains(out, "usedBytes") || !strings.Contains(out, d.Root()) {
		t.Errorf("crictl imagefsinfo:\n%s", out)
	}
	d.crictl("rmi", ref).must(t)
	if out := d.crictl("images").must(t); strings.Contains(out, "cri-test/busybox") {
		t.Errorf("crictl images after rmi:\n%s", out)
	}
	if out := d.ctr("-n", "k8s.io", "images", "ls", "-q").must(t); strings.Contains(out, ref) {
		t.Errorf("ctr images ls after rmi:\n%s", out)
	}
}
