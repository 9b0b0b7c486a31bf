package integration

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shimBuildTimeout bounds building one containerd-shim-runc-v2 from the containerd module.
const shimBuildTimeout = 10 * time.Minute

// currentShims are runc shims built from containerd releases, each installed under its own name:
// 2.4 requires BootstrapParams on stdin and answers protobuf, 2.2 answers JSON with version 3.
var currentShims = []struct{ version, name string }{
	{"v2.4.2", "runc24"},
	{"v2.2.9", "runc22"},
}

// TestV2ShimVersions runs the v2 lifecycle on runc shims built from containerd 2.4 and 2.2.
func TestV2ShimVersions(t *testing.T) {
	dir := t.TempDir()
	for _, s := range currentShims {
		installShim(t, buildShim(t, s.version), filepath.Join(dir, "containerd-shim-"+s.name+"-v2"))
	}
	d := startDaemonOnPath(t, dir)
	for _, s := range currentShims {
		t.Run(s.version, func(t *testing.T) {
			d.t = t
			rt, bin := "io.containerd."+s.name+".v2", "containerd-shim-"+s.name+"-v2"
			id := "bs-" + s.name
			d.removeOnFailure(t, id)
			r := d.corral("run", "--rm", "--runtime", rt, "--rootfs", rootfs, id, "sh", "-c", "echo out; echo err >&2; exit 3")
			if r.code != 3 || r.stdout != "out\n" || r.stderr != "err\n" {
				t.Fatalf("run --rm: exit %d stdout %q stderr %q, want 3 %q %q", r.code, r.stdout, r.stderr, "out\n", "err\n")
			}
			d.assertShimGone(t, bin, id)

			// ctr sends the runc options, which reach the shim inside BootstrapParams or as they are.
			if r := d.ctr("run", "--rm", "--runtime", rt, "--rootfs", rootfs, id, "echo", "hi"); r.code != 0 || r.stdout != "hi\n" {
				t.Fatalf("ctr run: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
			}
			d.assertShimGone(t, bin, id)

			d.corral("run", "-d", "--runtime", rt, "--rootfs", rootfs, id, "sleep", "1000").must(t)
			d.restart() // corrald finds the shim again through the address and task API version it saved
			pid := d.taskPid(t, id, "RUNNING")
			if r := d.corral("tasks", "exec", id, "sh", "-c", "echo in; exit 4"); r.code != 4 || r.stdout != "in\n" {
				t.Errorf("exec: exit %d stdout %q stderr %q, want 4 %q", r.code, r.stdout, r.stderr, "in\n")
			}
			d.corral("tasks", "kill", "-s", "KILL", id).must(t)
			if got := d.wait(t, id); got != 137 {
				t.Errorf("exit %d after SIGKILL, want 137", got)
			}
			d.corral("containers", "rm", id).must(t)
			if alive(pid) {
				t.Errorf("container process %d survived", pid)
			}
			d.assertShimGone(t, bin, id)
		})
	}
}

// TestV2ShimBadAnswer runs a real 2.4 shim's start behind a wrapper that replaces its answer: the
// run fails with an error naming the answer, and no shim process, socket or state is left.
func TestV2ShimBadAnswer(t *testing.T) {
	real := buildShim(t, currentShims[0].version)
	dir := t.TempDir()
	installShim(t, real, filepath.Join(dir, "containerd-shim-runc24-v2"))
	for name, answer := range map[string]string{
		"garbage": "this is no address",
		"grpc":    `{"version":3,"address":"unix:///run/containerd/s/nowhere","protocol":"grpc"}`,
	} {
		// The start helper leaves the shim running, as it does for any answer.
		script := fmt.Sprintf("#!/bin/sh\nfor a; do last=$a; done\nif [ \"$last\" = start ]; then\n"+
			"\t%q \"$@\" >/dev/null || exit\n\tprintf '%%s' %q\n\texit 0\nfi\nexec %q \"$@\"\n",
			filepath.Join(dir, "containerd-shim-runc24-v2"), answer, filepath.Join(dir, "containerd-shim-runc24-v2"))
		if err := os.WriteFile(filepath.Join(dir, "containerd-shim-"+name+"-v2"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d := startDaemonOnPath(t, dir)
	for name, want := range map[string]string{"garbage": `failed to parse shim start answer "this is no address"`, "grpc": "speaks grpc"} {
		t.Run(name, func(t *testing.T) {
			d.t = t
			id := "bs-" + name
			d.removeOnFailure(t, id)
			r := d.corral("run", "--rm", "--runtime", "io.containerd."+name+".v2", "--rootfs", rootfs, id, "true")
			if r.code == 0 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "containerd-shim-"+name+"-v2") {
				t.Errorf("run: exit %d stderr %q, want a failure naming the shim and %q", r.code, r.stderr, want)
			}
			d.assertShimGone(t, "containerd-shim-runc24-v2", id)
		})
	}
}

// startDaemonOnPath starts corrald with dir first on its $PATH.
func startDaemonOnPath(t *testing.T, dir string) *daemon {
	d := startDaemon(t, "")
	d.env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	d.restart()
	return d
}

// assertShimGone checks assertGone and that no shim binary of id runs and no socket of it is left
// (containerd 2.x shims name it after the hash of corrald's address, the namespace and the id).
func (d *daemon) assertShimGone(t *testing.T, binary, id string) {
	t.Helper()
	d.assertGone(t, id)
	if out, _ := exec.Command("pgrep", "-f", binary+" .*-id "+id+"( |$)").Output(); len(out) > 0 {
		t.Errorf("%s of %s still runs: pid %s", binary, id, out)
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	for _, name := range []string{filepath.Join(d.Address(), "default", id), filepath.Join(d.Address(), "default", id, "debug")} {
		sock := fmt.Sprintf("/run/containerd/s/%x", sha256.Sum256([]byte(name)))
		if _, err := os.Stat(sock); !os.IsNotExist(err) {
			t.Errorf("shim socket %s of %s left (%v)", sock, id, err)
			_ = os.Remove(sock)
		}
	}
}

// buildShim returns containerd-shim-runc-v2 built from the containerd module at version. Builds are
// cached by version under the temporary directory, so only the first run on a machine builds.
func buildShim(t *testing.T, version string) string {
	t.Helper()
	cache := filepath.Join(os.TempDir(), "corral-shim-cache", version)
	bin := filepath.Join(cache, "containerd-shim-runc-v2")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building containerd-shim-runc-v2 %s needs the go command: %v", version, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), shimBuildTimeout)
	defer cancel()
	mod := t.TempDir()
	start := time.Now()
	for _, args := range [][]string{
		{"mod", "init", "corral.test/shimbuild"},
		{"get", "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@" + version},
		{"build", "-trimpath", "-o", mod, "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2"},
	} {
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("failed to build containerd-shim-runc-v2 %s: go %s: %v\n%s", version, strings.Join(args, " "), err, out)
		}
	}
	t.Logf("built containerd-shim-runc-v2 %s in %v", version, time.Since(start).Round(time.Second))
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	// Rename into place, so a concurrent run sees no half-written binary.
	if err := os.Rename(filepath.Join(mod, "containerd-shim-runc-v2"), bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// installShim puts the shim at path under its own name: a hard link, or a copy across filesystems.
// A symlink would not do: the shim re-executes itself through /proc/self/exe, under the target's name.
func installShim(t *testing.T, src, path string) {
	t.Helper()
	if os.Link(src, path) == nil {
		return
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
