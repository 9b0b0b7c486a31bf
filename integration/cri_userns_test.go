package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// criuPod is a pod config named criu-<name>, logging to a fresh directory, with user namespace
// options userns.
func criuPod(t *testing.T, name string, userns *runtimeapi.UserNamespace) *runtimeapi.PodSandboxConfig {
	cfg := cricPod(t, name)
	cfg.Metadata.Name, cfg.Hostname = "criu-"+name, "criu-"+name
	cfg.Linux.SecurityContext = &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{UsernsOptions: userns}}
	return cfg
}

// criuMapping is the pod user namespace of the tests: container ids 0-99999 on host ids 1000-100999.
func criuMapping() *runtimeapi.UserNamespace {
	m := []*runtimeapi.IDMapping{{ContainerId: 0, HostId: 1000, Length: 100000}}
	return &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_POD, Uids: m, Gids: m}
}

// TestCRIUserNamespaces checks pods in user namespaces: crictl info advertises them for runc and
// shim v2 only; on both, a POD-mode pod's containers share the pause's user namespace with the pod's
// mapping, run as its root on a rootfs whose image files it owns (idmapped layers) and whose new
// files are owned by host uid 1000 in the snapshot's upper directory, with the pod's network, hosts
// and /dev/shm; a host-network pod sees the host's /sys; a NODE-mode pod is in the host's;
// bad options, a handler on LXC, and a root directory the pod's root cannot search are refused and
// leave nothing.
func TestCRIUserNamespaces(t *testing.T) {
	d := startCRIContainers(t, "")

	var info struct {
		RuntimeHandlers []struct {
			Name     string
			Features struct {
				UserNamespaces bool `json:"user_namespaces"`
			}
		} `json:"runtimeHandlers"`
	}
	if err := json.Unmarshal([]byte(d.crictl("info").must(t)), &info); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"": false, "runc": true, "lxc": false, "v2": true} // "" is lcr here
	for _, h := range info.RuntimeHandlers {
		if w, ok := want[h.Name]; !ok || h.Features.UserNamespaces != w {
			t.Errorf("handler %q advertises user namespaces %v, want %v", h.Name, h.Features.UserNamespaces, w)
		}
	}

	// d.dir is 0700: the pod's root (host uid 1000) could not reach a rootfs under it.
	r := d.crictl("runp", "--runtime", "runc", podFile(t, criuPod(t, "closed", criuMapping())))
	if r.code == 0 || !strings.Contains(r.stderr, "directory "+d.dir+" (mode 0700) does not let host uid 1000") {
		t.Errorf("runp under a closed root: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	criuNothingLeft(t, d)
	if err := os.Chmod(d.dir, 0o711); err != nil {
		t.Fatal(err)
	}

	for _, handler := range []string{"runc", "v2"} {
		t.Run(handler, func(t *testing.T) {
			if handler == "v2" {
				requireRuntime(t, "io.containerd.runc.v2")
			}
			criuPodMode(t, d, handler)
		})
	}

	t.Run("hostnet", func(t *testing.T) {
		podCfg := criuPod(t, "hostnet", criuMapping())
		podCfg.Linux.SecurityContext.NamespaceOptions.Network = runtimeapi.NamespaceMode_NODE
		pod := d.runp(t, "runc", podCfg)
		id := d.create(t, pod, cricContainer("hostnet", "sh", "-c", "cat /proc/self/uid_map; ls /sys/class/net"), podCfg)
		d.crictl("start", id).must(t)
		d.waitState(t, id, "CONTAINER_EXITED")
		if out := d.crictl("logs", id).must(t); !regexp.MustCompile(`^\s+0\s+1000\s+100000\n(.|\n)*\b` + criBridge + `\b`).MatchString(out) {
			t.Errorf("a host-network user namespace pod's container printed %q, want the mapping and the host's %s", out, criBridge)
		}
		d.crictl("rmp", "-f", pod).must(t)
	})

	// A crash of corrald loses nothing of a user namespace pod: after kill -9 and a restart, its
	// container runs on, a new container joins its user namespace, and removing it leaves nothing.
	t.Run("restart", func(t *testing.T) {
		podCfg := criuPod(t, "restart", criuMapping())
		pod := d.runp(t, "runc", podCfg)
		before := d.create(t, pod, cricContainer("restart-before", "sleep", "3600"), podCfg)
		d.crictl("start", before).must(t)
		d.waitState(t, before, "CONTAINER_RUNNING")
		d.restart()
		if st := d.inspectp(t, pod); st.Status.State != "SANDBOX_READY" {
			t.Fatalf("pod after the restart: %+v", st.Status)
		}
		d.waitState(t, before, "CONTAINER_RUNNING")
		after := d.create(t, pod, cricContainer("restart-after", "sleep", "3600"), podCfg)
		d.crictl("start", after).must(t)
		d.waitState(t, after, "CONTAINER_RUNNING")
		for _, id := range []string{before, after} {
			if out := d.crictl("exec", "-s", id, "cat", "/proc/self/uid_map").must(t); !regexp.MustCompile(`^\s+0\s+1000\s+100000\s*$`).MatchString(out) {
				t.Errorf("uid_map of container %s after the restart: %q", id, out)
			}
		}
		if a, b := d.inspect(t, before).Info.Pid, d.inspect(t, after).Info.Pid; nsInode(t, fmt.Sprintf("/proc/%d/ns/user", a)) != nsInode(t, fmt.Sprintf("/proc/%d/ns/user", b)) {
			t.Errorf("the containers from before and after the restart are in different user namespaces")
		}
		d.crictl("stopp", pod).must(t)
		d.crictl("rmp", pod).must(t)
		criuNothingLeft(t, d)
	})

	t.Run("node", func(t *testing.T) {
		podCfg := criuPod(t, "node", &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_NODE})
		pod := d.runp(t, "runc", podCfg)
		id := d.create(t, pod, cricContainer("node", "cat", "/proc/self/uid_map"), podCfg)
		d.crictl("start", id).must(t)
		hostMap, err := os.ReadFile("/proc/self/uid_map")
		if err != nil {
			t.Fatal(err)
		}
		d.waitState(t, id, "CONTAINER_EXITED")
		if got := d.crictl("logs", id).must(t); strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(string(hostMap)), " ") {
			t.Errorf("uid_map in a NODE-mode pod %q, want the host's %q", got, hostMap)
		}
		d.crictl("rmp", "-f", pod).must(t)
	})

	m := criuMapping().Uids
	for _, tc := range []struct {
		name, handler string
		userns        *runtimeapi.UserNamespace
		want          string
	}{
		{"two", "runc", &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_POD, Uids: append(m, &runtimeapi.IDMapping{HostId: 2000, Length: 10}), Gids: m},
			"user namespace mode POD takes exactly one uid mapping, got 2"},
		{"noroot", "runc", &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_POD, Uids: m,
			Gids: []*runtimeapi.IDMapping{{ContainerId: 1, HostId: 1000, Length: 100000}}},
			"user namespace gid mapping must map container id 0 (root), got container id 1"},
		{"container", "runc", &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_CONTAINER},
			"user namespace mode CONTAINER is not supported: accepted are NODE and POD"},
		{"target", "runc", &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_TARGET}, "user namespace mode TARGET is not supported"},
		{"lxc", "lxc", criuMapping(), `(runtime lcr) does not support user namespaces: use a handler on runc or io.containerd.runc.v2`},
	} {
		r := d.crictl("runp", "--runtime", tc.handler, podFile(t, criuPod(t, tc.name, tc.userns)))
		if r.code == 0 || !strings.Contains(r.stderr, "code = InvalidArgument") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: runp exit %d %s%s, want InvalidArgument %q", tc.name, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	criuNothingLeft(t, d)
}

// criuPodMode runs a POD-mode user namespace pod on handler with two containers and checks them.
func criuPodMode(t *testing.T, d *criDaemon, handler string) {
	podCfg := criuPod(t, "pod-"+handler, criuMapping())
	pod := d.runp(t, handler, podCfg)
	sh := `cat /proc/self/uid_map /proc/self/gid_map; id -u; echo hi >/written; stat -c 'owner %u:%g' /written /bin/sh
		grep -q criu-pod /etc/hostname && grep -q localhost /etc/hosts && echo files ok
		echo x >/dev/shm/x && echo shm ok; echo net $(ls /sys/class/net); echo all done; sleep 3600`
	first := d.create(t, pod, cricContainer("first-"+handler, "sh", "-c", sh), podCfg)
	d.crictl("start", first).must(t)
	out := d.waitLog(t, first, "all done")
	for _, re := range []string{`(?m)^\s+0\s+1000\s+100000\n\s+0\s+1000\s+100000\n0\n`, `owner 0:0\nowner 0:0\n`, `files ok\nshm ok\n`, `net .*\beth0\b`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output of a container in a user namespace pod has no %s:\n%s", re, out)
		}
	}
	second := d.create(t, pod, cricContainer("second-"+handler, "sleep", "3600"), podCfg)
	d.crictl("start", second).must(t)
	pause := d.inspectp(t, pod).Info.Pid
	userns := nsInode(t, fmt.Sprintf("/proc/%d/ns/user", pause))
	if userns == nsInode(t, "/proc/self/ns/user") {
		t.Errorf("the pause process %d is in the host's user namespace", pause)
	}
	for _, id := range []string{first, second} {
		if pid := d.inspect(t, id).Info.Pid; nsInode(t, fmt.Sprintf("/proc/%d/ns/user", pid)) != userns {
			t.Errorf("container %s (pid %d) is not in its pause's user namespace", id, pid)
		}
	}
	upper := criuUpperdir(t, filepath.Join(d.Root(), "bundles", "k8s.io", first, "rootfs"))
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(upper, "written"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 1000 || st.Gid != 1000 {
		t.Errorf("a file the container's root wrote is owned by host %d:%d in %s, want 1000:1000", st.Uid, st.Gid, upper)
	}
	d.crictl("rmp", "-f", pod).must(t)
	criuNothingLeft(t, d)
}

// criuUpperdir is the upper directory of the overlay mounted at target.
func criuUpperdir(t *testing.T, target string) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[4] != target {
			continue
		}
		for _, o := range strings.Split(fields[len(fields)-1], ",") {
			if v, ok := strings.CutPrefix(o, "upperdir="); ok {
				return v
			}
		}
	}
	t.Fatalf("no overlay with an upperdir mounted at %s", target)
	return ""
}

// criuNothingLeft checks that d has no pod, sandbox directory, network namespace or user
// namespace pin left.
func criuNothingLeft(t *testing.T, d *criDaemon) {
	t.Helper()
	if pods := strings.Fields(d.crictl("pods", "-q").must(t)); len(pods) > 0 {
		t.Errorf("pods left: %v", pods)
	}
	if dirs, _ := os.ReadDir(filepath.Join(d.State(), "cri", "sandboxes")); len(dirs) > 0 {
		t.Errorf("sandbox directories left: %v", dirs)
	}
	d.assertNoNetworkLeft(t, "")
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(mounts), "\n") {
		if strings.Contains(l, d.dir+"/") {
			t.Errorf("mount left: %s", l)
		}
	}
}
