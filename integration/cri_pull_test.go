package integration

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestCRIPull pulls through the CRI from local registries that hosts.toml files put behind names of
// their own: an image, the sandbox image when a pod needs it, and an image behind basic auth, with
// credentials as crictl sends them. Failures name what failed; rmi removes every name of the image.
func TestCRIPull(t *testing.T) {
	d := startCRI(t, "", false)
	port := startRegistryWith(t, registryOpts{})
	push := func(name string, tar string, user ...string) {
		d.ctr("images", "import", tar).must(t)
		d.ctr(append(append([]string{"images", "push", "--plain-http"}, user...), name)...).must(t)
		d.ctr("images", "rm", "--sync", name).must(t)
	}
	push(fmt.Sprintf("localhost:%d/cri/busybox:1", port), imageTar(t, t.TempDir(), fmt.Sprintf("localhost:%d/cri/busybox:1", port)))
	pause := fmt.Sprintf("localhost:%d/pause:3.9", port)
	push(pause, imageTarCmd(t, t.TempDir(), pause, []string{"sleep", "2147483647"}))
	server := fmt.Sprintf("server = \"http://127.0.0.1:%d\"\n", port)
	writeHostsToml(t, d.hostsDir, "registry.corral.test", server)
	writeHostsToml(t, d.hostsDir, "registry.k8s.io", server)

	ref := "registry.corral.test/cri/busybox:1"
	if out := d.crictl("pull", ref).must(t); !strings.Contains(out, "sha256:") {
		t.Errorf("crictl pull %s: %s", ref, out)
	}
	var st struct {
		Status struct {
			ID                    string
			RepoTags, RepoDigests []string
		}
	}
	if err := json.Unmarshal([]byte(d.crictl("inspecti", ref).must(t)), &st); err != nil {
		t.Fatal(err)
	}
	if s := st.Status; len(s.RepoTags) != 1 || s.RepoTags[0] != ref || len(s.RepoDigests) != 1 ||
		!strings.HasPrefix(s.RepoDigests[0], "registry.corral.test/cri/busybox@sha256:") || !strings.HasPrefix(s.ID, "sha256:") {
		t.Errorf("crictl inspecti %s: %+v", ref, s)
	}
	names := d.ctr("-n", "k8s.io", "images", "ls", "-q").must(t)
	for _, want := range []string{ref, st.Status.RepoDigests[0], st.Status.ID} {
		if !strings.Contains(names, want+"\n") {
			t.Errorf("no image record %s: %s", want, names)
		}
	}

	for _, tc := range []struct{ image, want string }{
		{"registry.corral.test/cri/busybox:nope", "not found"},
		{"elsewhere.corral.test/cri/busybox:1", "127.0.0.1:1"}, // _default: a closed port
		{"Bad//Ref", "invalid image reference"},
	} {
		if r := d.crictl("pull", tc.image); r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("crictl pull %s: exit %d, want an error with %q: %s", tc.image, r.code, tc.want, r.stderr)
		}
	}

	// A pod pulls the sandbox image it lacks, through registry.k8s.io's hosts.toml.
	id := d.runp(t, "runc", criPod("pull"))
	d.crictl("stopp", id).must(t)
	d.crictl("rmp", id).must(t)

	// Basic auth: refused without credentials, pulled with --creds and with --auth.
	auth := startRegistryWith(t, registryOpts{htpasswd: htpasswdFile(t, t.TempDir(), "corral", "s3cret")})
	src := fmt.Sprintf("localhost:%d/cri/busybox:2", auth)
	push(src, imageTar(t, t.TempDir(), src), "--user", "corral:s3cret")
	writeHostsToml(t, d.hostsDir, "auth.corral.test", fmt.Sprintf("server = \"http://127.0.0.1:%d\"\n", auth))
	private := "auth.corral.test/cri/busybox:2"
	if r := d.crictl("pull", private); r.code == 0 || !strings.Contains(r.stderr, "authorization failed") {
		t.Errorf("crictl pull without credentials: exit %d: %s", r.code, r.stderr)
	}
	d.crictl("pull", "--creds", "corral:s3cret", private).must(t)
	d.crictl("rmi", private).must(t)
	d.crictl("pull", "--auth", base64.StdEncoding.EncodeToString([]byte("corral:s3cret")), private).must(t)

	// rmi removes every name of an image: its tag, its repository digest and its id.
	d.crictl("rmi", private).must(t)
	if names := d.ctr("-n", "k8s.io", "images", "ls", "-q").must(t); strings.Contains(names, "auth.corral.test") {
		t.Errorf("names of %s left after its rmi: %s", private, names)
	}
	if strings.Contains(d.ctr("-n", "k8s.io", "images", "ls", "-q").must(t), ref+"\n") {
		d.crictl("rmi", ref).must(t) // not removed with private: another config, another image
	}
	if names := d.ctr("-n", "k8s.io", "images", "ls", "-q").must(t); strings.Contains(names, "corral.test") || strings.Contains(names, st.Status.ID) {
		t.Errorf("image records after rmi: %s", names)
	}
}
