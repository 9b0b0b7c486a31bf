package integration

import (
	"context"
	"encoding/json"
	"fmt"
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

// TestCRIImageVolume mounts an image into a runc container read-only (KEP-4639 image volumes), whole
// and by sub path: its files are there and executable, writes fail, the status reports the image's
// id, and the volumes survive a corrald restart. Removing the container leaves no mount, snapshot,
// lease or directory; bad image mounts are refused and leave nothing either.
func TestCRIImageVolume(t *testing.T) {
	d := startCRIContainers(t, "")
	imageID := strings.TrimSpace(d.crictl("inspecti", "-o", "go-template", "--template", "{{.status.id}}", criImage).must(t))
	vols := filepath.Join(d.State(), "cri", "image-volumes")
	podCfg := crifPod(t, "imgvol")
	pod := d.runp(t, "runc", podCfg)

	cfg := crifContainer("imgvol", "sleep", "3600")
	cfg.Mounts = []*runtimeapi.Mount{
		{ContainerPath: "/img", Readonly: true, Image: &runtimeapi.ImageSpec{Image: imageID}},
		{ContainerPath: "/sub", Readonly: true, Image: &runtimeapi.ImageSpec{Image: criImage}, ImageSubPath: "etc"},
	}
	id := d.create(t, pod, cfg, podCfg)
	var st struct {
		Status struct {
			Mounts []struct {
				ContainerPath string `json:"containerPath"`
				Image         *struct {
					ImageRef string `json:"imageRef"`
				} `json:"image"`
			} `json:"mounts"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(d.crictl("inspect", id).must(t)), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Status.Mounts) != 2 || st.Status.Mounts[0].Image == nil || st.Status.Mounts[0].Image.ImageRef != imageID || st.Status.Mounts[1].Image.ImageRef != imageID {
		t.Errorf("status mounts %+v, want both with image ref %s", st.Status.Mounts, imageID)
	}
	d.crictl("start", id).must(t)
	d.restart()
	d.crictl("exec", "-s", id, "/img/bin/busybox", "true").must(t)
	if out := d.crictl("exec", "-s", id, "cat", "/sub/group").must(t); !strings.Contains(out, "staff:x:3000") {
		t.Errorf("/sub/group in the container: %q", out)
	}
	if r := d.crictl("exec", "-s", id, "ls", "/sub/etc"); r.code == 0 {
		t.Errorf("the sub path mount holds the whole image: %s", r.stdout)
	}
	if r := d.crictl("exec", "-s", id, "touch", "/img/crif"); r.code == 0 || !strings.Contains(r.stdout+r.stderr, "Read-only file system") {
		t.Errorf("write to the image volume: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if n := countMounts(t, vols); n != 2 {
		t.Errorf("%d mounts under %s, want 2", n, vols)
	}
	d.crictl("rm", "-f", id).must(t)
	assertNoImageVolume(t, d, vols)

	for _, tc := range []struct {
		name string
		m    *runtimeapi.Mount
		want string
	}{
		{"rw", &runtimeapi.Mount{ContainerPath: "/img", Image: &runtimeapi.ImageSpec{Image: criImage}}, "image mount at /img must be read-only"},
		{"nosub", &runtimeapi.Mount{ContainerPath: "/img", Readonly: true, Image: &runtimeapi.ImageSpec{Image: criImage}, ImageSubPath: "nope"}, "is not in the image"},
		{"escape", &runtimeapi.Mount{ContainerPath: "/img", Readonly: true, Image: &runtimeapi.ImageSpec{Image: criImage}, ImageSubPath: "../.."}, "path escapes from parent"},
		{"file", &runtimeapi.Mount{ContainerPath: "/img", Readonly: true, Image: &runtimeapi.ImageSpec{Image: criImage}, ImageSubPath: "etc/passwd"}, "is not a directory"},
		{"absent", &runtimeapi.Mount{ContainerPath: "/img", Readonly: true, Image: &runtimeapi.ImageSpec{Image: "docker.io/library/crif-absent:1"}}, "pull it first"},
	} {
		bad := crifContainer("imgvol-"+tc.name, "true")
		bad.Mounts = []*runtimeapi.Mount{tc.m}
		r := d.crictl("create", "--no-pull", pod, ctrFile(t, bad), podFile(t, podCfg))
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: create: exit %d %s%s, want %q", tc.name, r.code, r.stdout, r.stderr, tc.want)
		}
		assertNoImageVolume(t, d, vols)
	}
	d.crictl("rmp", "-f", pod).must(t)
}

// assertNoImageVolume checks that no image volume is left: no mount or directory under vols, no
// view snapshot and no lease.
func assertNoImageVolume(t *testing.T, d *criDaemon, vols string) {
	t.Helper()
	if n := countMounts(t, vols); n != 0 {
		t.Errorf("%d mounts left under %s", n, vols)
	}
	if entries, _ := os.ReadDir(vols); len(entries) > 0 {
		t.Errorf("image volume directories left: %v", entries)
	}
	if out := d.ctr("-n", "k8s.io", "snapshots", "ls").must(t); strings.Contains(out, "cri-image-volume") {
		t.Errorf("image volume snapshots left:\n%s", out)
	}
	if out := d.ctr("-n", "k8s.io", "leases", "ls").must(t); strings.Contains(out, "cri-image-volumes") {
		t.Errorf("image volume leases left:\n%s", out)
	}
}

// TestCRIRecursiveReadOnlyMount mounts a host directory with a tmpfs under it read-only, recursively
// and not, on the runc, shim v2 and runsc handlers: under the recursive mount the tmpfs is
// read-only too, under the other it stays writable, except on runsc, whose read-only binds are
// recursive. Status advertises recursive read-only mounts on those handlers and not on lxc, where
// such a mount is refused naming the handler, as are one that is not read-only and one that is not
// private, leaving their host paths uncreated.
func TestCRIRecursiveReadOnlyMount(t *testing.T) {
	requireRuntime(t, "runsc")
	d := startCRIContainers(t, "[cri.runtimes.runsc]\nruntime = \"runsc\"\n")
	rs := runtimeapi.NewRuntimeServiceClient(d.grpcConn())
	st, err := rs.Status(context.Background(), &runtimeapi.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	advertised := map[string]bool{}
	for _, h := range st.GetRuntimeHandlers() {
		advertised[h.GetName()] = h.GetFeatures().GetRecursiveReadOnlyMounts()
	}
	if want := map[string]bool{"": false, "runc": true, "v2": true, "runsc": true, "lxc": false}; fmt.Sprint(advertised) != fmt.Sprint(want) {
		t.Errorf("recursive read-only mounts by handler %v, want %v", advertised, want)
	}

	src := t.TempDir()
	sub := filepath.Join(src, "tmpfs")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("crif-rro", sub, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(sub, unix.MNT_DETACH) })
	for _, h := range []struct{ handler, runtime string }{{"runc", "runc"}, {"v2", "io.containerd.runc.v2"}, {"runsc", "runsc"}} {
		t.Run(h.handler, func(t *testing.T) {
			requireRuntime(t, h.runtime)
			podCfg := crifPod(t, "rro-"+h.handler)
			pod := d.runp(t, h.handler, podCfg)
			cfg := crifContainer("rro-"+h.handler, "sleep", "3600")
			cfg.Mounts = []*runtimeapi.Mount{
				{HostPath: src, ContainerPath: "/rro", Readonly: true, RecursiveReadOnly: true},
				{HostPath: src, ContainerPath: "/ro", Readonly: true},
			}
			id := d.create(t, pod, cfg, podCfg)
			d.crictl("start", id).must(t)
			readonly := []string{"/rro/top", "/rro/tmpfs/sub", "/ro/top"}
			if h.runtime == "runsc" {
				readonly = append(readonly, "/ro/tmpfs/sub")
			} else {
				d.crictl("exec", "-s", id, "touch", "/ro/tmpfs/sub").must(t) // not recursive: the submount stays writable
			}
			for _, p := range readonly {
				if r := d.crictl("exec", "-s", id, "touch", p); r.code == 0 || !strings.Contains(r.stdout+r.stderr, "Read-only file system") {
					t.Errorf("touch %s: exit %d %s%s, want a read-only file system", p, r.code, r.stdout, r.stderr)
				}
			}
			d.crictl("rmp", "-f", pod).must(t)
		})
	}

	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		name, handler string
		m             *runtimeapi.Mount
		want          string
	}{
		{"lxc", "lxc", &runtimeapi.Mount{Readonly: true, RecursiveReadOnly: true},
			`runtime handler \"lxc\" (runtime lcr) has no recursive read-only mounts, asked for host path ` + missing + `: LXC 5 remounts only the top mount`}, // crictl quotes the error
		{"rw", "runc", &runtimeapi.Mount{RecursiveReadOnly: true}, "recursive read-only mount of host path " + missing + " needs readonly true"},
		{"slave", "runc", &runtimeapi.Mount{Readonly: true, RecursiveReadOnly: true, Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER},
			"needs propagation PROPAGATION_PRIVATE, not PROPAGATION_HOST_TO_CONTAINER"},
	} {
		if tc.handler == "lxc" {
			requireRuntime(t, "lcr")
		}
		podCfg := crifPod(t, "rro-bad-"+tc.name)
		pod := d.runp(t, tc.handler, podCfg)
		tc.m.HostPath, tc.m.ContainerPath = missing, "/rro"
		cfg := crifContainer("rro-bad-"+tc.name, "true")
		cfg.Mounts = []*runtimeapi.Mount{tc.m}
		if r := d.crictl("create", "--no-pull", pod, ctrFile(t, cfg), podFile(t, podCfg)); r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: create: exit %d %s%s, want %q", tc.name, r.code, r.stdout, r.stderr, tc.want)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Errorf("%s: the refused mount's host path was created: %v", tc.name, err)
		}
		d.crictl("rmp", "-f", pod).must(t)
	}
}
