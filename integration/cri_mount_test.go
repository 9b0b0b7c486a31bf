package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// sharedDir is a fresh directory bind-mounted on itself and made rshared, as kubelet makes the
// host paths of bidirectional mounts; it is unmounted at the end of the test.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount(dir, dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	if err := unix.Mount("", dir, "", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCRIMountPropagation checks a bidirectional mount on runc: a mount the host makes under its
// host path appears in the container, and one the container makes appears on the host. A
// bidirectional mount whose host path is not on a shared mount is refused, naming the mount.
func TestCRIMountPropagation(t *testing.T) {
	d := startCRIContainers(t, "")
	podCfg := crifPod(t, "prop")
	pod := d.runp(t, "runc", podCfg)
	src := sharedDir(t)
	cfg := crifContainer("prop", "sleep", "3600")
	cfg.Linux.SecurityContext = &runtimeapi.LinuxContainerSecurityContext{Privileged: true}
	cfg.Mounts = []*runtimeapi.Mount{{HostPath: src, ContainerPath: "/vol", Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL}}
	id := d.create(t, pod, cfg, podCfg)
	d.crictl("start", id).must(t)

	fromHost := filepath.Join(src, "from-host")
	if err := os.Mkdir(fromHost, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("crif-host", fromHost, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(fromHost, unix.MNT_DETACH) })
	if err := os.WriteFile(filepath.Join(fromHost, "flag"), []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := d.crictl("exec", "-s", id, "cat", "/vol/from-host/flag").must(t); strings.TrimSpace(out) != "host" {
		t.Errorf("the host's mount in the container: %q", out)
	}

	d.crictl("exec", "-s", id, "sh", "-c", "mkdir /vol/from-ctr && mount -t tmpfs crif-ctr /vol/from-ctr && echo ctr > /vol/from-ctr/flag").must(t)
	fromCtr := filepath.Join(src, "from-ctr")
	t.Cleanup(func() { _ = unix.Unmount(fromCtr, unix.MNT_DETACH) })
	if b, err := os.ReadFile(filepath.Join(fromCtr, "flag")); err != nil || string(b) != "ctr\n" {
		t.Errorf("the container's mount on the host: %q, %v", b, err)
	}
	d.crictl("rmp", "-f", pod).must(t)

	pod = d.runp(t, "runc", podCfg)
	cfg.Mounts[0].HostPath = t.TempDir() // on / or /tmp, not shared here
	r := d.crictl("create", "--no-pull", pod, ctrFile(t, cfg), podFile(t, podCfg))
	if r.code == 0 || !strings.Contains(r.stderr, "not a shared mount as its mount propagation needs") {
		t.Errorf("bidirectional mount of a private host path: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	d.crictl("rmp", "-f", pod).must(t)
}
