package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSocketModes(t *testing.T) {
	d := startDaemon(t, "")
	for path, want := range map[string]os.FileMode{d.Address(): 0o660, d.State(): 0o711, d.Root(): 0o711} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", path, got, want)
		}
	}
}

func TestConfigDefault(t *testing.T) {
	r := runCmd(t, filepath.Join(bins, "corrald"), "config", "default")
	for _, key := range []string{"version = 1", "root =", "state =", "default_runtime =", "shim_path =", "log_level =",
		"[grpc]", "address =", "[timeouts]", "runtime_create =", "[runtimes.my-runc]", "runtime_args =",
		"[cri]", "namespace =", "sandbox_image =", "[cri.runtimes.runc]", "[cri.cni]", "conf_dir =", "bin_dir =", "[cri.registry]", "config_path ="} {
		if !strings.Contains(r.must(t), key) {
			t.Errorf("`corrald config default` does not document %q", key)
		}
	}
}

func TestRuntimesListing(t *testing.T) {
	d := startDaemon(t, "")
	out := d.corral("runtimes").must(t)
	for _, want := range [][]string{
		{"runc", "shim v1", "/usr/sbin/runc", "built-in", "true"},
		{"runsc", "shim v1", "built-in, config", "true"},
		{"my-runc", "shim v1", "/usr/sbin/runc", "config", "true"},
		{"lcr", "lcr", "built-in", "true", "true"}, // installed, and the default
	} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, want[0]+" ") && containsAll(line, want[1:]) {
				found = true
			}
		}
		if !found {
			t.Errorf("no runtimes line with %v in:\n%s", want, out)
		}
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
