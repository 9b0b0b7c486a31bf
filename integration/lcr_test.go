package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api"
	lxc "github.com/corral-dev/corral/engine/lcr"
	"github.com/corral-dev/corral/shim"
)

// TestLCRDefaultRuntime: with no --runtime and no default_runtime, run goes to LXC, streams and
// exit code intact, and leaves nothing behind.
func TestLCRDefaultRuntime(t *testing.T) {
	d := startDaemon(t, "")
	r := d.corral("run", "--rm", "--rootfs", rootfs, "c1", "sh", "-c", "echo out; echo err >&2; exit 5")
	if r.code != 5 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("got exit %d stdout %q stderr %q, want 5 %q %q", r.code, r.stdout, r.stderr, "out\n", "err\n")
	}
	d.assertLXCGone(t, "c1")
	// It ran under LXC: LXC's init is pid 1 and LXC sets container=lxc. --runtime is case-insensitive.
	for _, args := range [][]string{{}, {"--runtime", "LCR"}} {
		args = append(append([]string{"run", "--rm"}, args...), "--rootfs", rootfs, "c2", "sh", "-c", `echo "$container $(cat /proc/1/cmdline)"`)
		if out := d.corral(args...).must(t); out != "lxc init\n" {
			t.Errorf("corral %v printed %q, want LXC's %q", args, out, "lxc init\n")
		}
		d.assertLXCGone(t, "c2")
	}
}

// TestLCRProcess: --env and --cwd reach the container's process.
func TestLCRProcess(t *testing.T) {
	d := startDaemon(t, "")
	out := d.corral("run", "--rm", "--rootfs", rootfs, "--env", "FOO=bar baz", "--env", "EMPTY=", "--cwd", "/tmp", "p1",
		"sh", "-c", `echo "[$FOO] [${EMPTY-unset}]"; pwd; id -u`).must(t)
	if want := "[bar baz] []\n/tmp\n0\n"; out != want {
		t.Errorf("printed %q, want %q", out, want)
	}
	d.assertLXCGone(t, "p1")
}

// lcrSpec is a spec like corral run's, with a cgroup namespace and the cgroup filesystem mounted,
// that runs script with the host directory out at /out.
func lcrSpec(script, out string) *specs.Spec {
	return &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: rootfs},
		Process: &specs.Process{Args: []string{"sh", "-c", script}, Cwd: "/", Env: []string{"PATH=/bin"}},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro"}},
			{Destination: "/out", Source: out, Options: []string{"rbind"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.CgroupNamespace}},
			Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
		},
	}
}

// createSpec creates container id with spec and the default runtime, and its task, through the API.
func (d *daemon) createSpec(t *testing.T, id string, s *specs.Spec) error {
	t.Helper()
	return d.createSpecOn(t, id, "", s, "", "", "")
}

// createSpecOn creates container id with spec on runtime, and its task with the given stdio.
func (d *daemon) createSpecOn(t *testing.T, id, runtime string, s *specs.Spec, stdin, stdout, stderr string) error {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	conn := d.grpcConn()
	ctx := nsCtx("default")
	if _, err := containersapi.NewContainersClient(conn).Create(ctx, &containersapi.CreateContainerRequest{Container: &containersapi.Container{
		ID: id, Spec: &anypb.Any{TypeUrl: api.SpecTypeURL, Value: b}, Runtime: &containersapi.Container_Runtime{Name: runtime}}}); err != nil {
		t.Fatal(err)
	}
	_, err = tasksapi.NewTasksClient(conn).Create(ctx, &tasksapi.CreateTaskRequest{ContainerID: id, Stdin: stdin, Stdout: stdout, Stderr: stderr})
	return errgrpc.ToNative(err)
}

// TestLCRSpec: the hostname and a memory limit set in the spec are visible inside the container;
// metrics come from its cgroups; update changes its limit while it runs.
func TestLCRSpec(t *testing.T) {
	d := startDaemon(t, "")
	out := t.TempDir()
	limit := int64(64 << 20)
	s := lcrSpec(`hostname > /out/hostname
		cat /sys/fs/cgroup/memory/memory.limit_in_bytes > /out/limit 2>/dev/null || cat /sys/fs/cgroup/memory.max > /out/limit
		touch /out/ready; exec sleep 1000`, out)
	s.Hostname = "lcr-host"
	s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
	if err := d.createSpec(t, "s1", s); err != nil {
		t.Fatal(err)
	}
	d.corral("tasks", "start", "s1").must(t)
	waitFile(t, filepath.Join(out, "ready"))
	for file, want := range map[string]string{"hostname": "lcr-host", "limit": fmt.Sprint(limit)} {
		if b, _ := os.ReadFile(filepath.Join(out, file)); strings.TrimSpace(string(b)) != want {
			t.Errorf("%s inside the container: %q, want %q", file, b, want)
		}
	}

	tasks := tasksapi.NewTasksClient(d.grpcConn())
	m, err := tasks.Metrics(nsCtx("default"), &tasksapi.MetricsRequest{Filters: []string{"id==s1"}})
	if err != nil || len(m.Metrics) != 1 {
		t.Fatalf("metrics: %v, %v", m, err)
	}
	var st stats.Metrics
	if data := m.Metrics[0].Data; data.TypeUrl != "io.containerd.cgroups.v1.Metrics" || proto.Unmarshal(data.Value, &st) != nil {
		t.Fatalf("metrics data %s %s", data.TypeUrl, data.Value)
	}
	if st.Memory.GetUsage().GetLimit() != uint64(limit) || st.Memory.GetUsage().GetUsage() == 0 || st.Pids.GetCurrent() < 2 {
		t.Errorf("metrics %v: want the 64 MiB limit, some memory used, LXC's init and sleep", &st)
	}

	res, _ := json.Marshal(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: func() *int64 { v := int64(32 << 20); return &v }()}})
	if _, err := tasks.Update(nsCtx("default"), &tasksapi.UpdateTaskRequest{ContainerID: "s1", Resources: &anypb.Any{Value: res}}); err != nil {
		t.Fatalf("update: %v", err)
	}
	got := d.corral("tasks", "exec", "s1", "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max").must(t)
	if strings.TrimSpace(got) != fmt.Sprint(32<<20) {
		t.Errorf("limit after update: %q, want %d", got, 32<<20)
	}
	d.corral("tasks", "kill", "-s", "KILL", "s1").must(t)
	if got := d.wait(t, "s1"); got != 137 {
		t.Errorf("exit status %d after SIGKILL, want 137", got)
	}
	d.corral("containers", "rm", "s1").must(t)
	d.assertLXCGone(t, "s1")
}

// TestLCRUnexpressible: a spec field LXC cannot express fails at create, naming the field, and
// leaves nothing behind.
func TestLCRUnexpressible(t *testing.T) {
	d := startDaemon(t, "")
	for _, tc := range []struct {
		name, field string
		class       error
		edit        func(*specs.Spec)
	}{
		{"seccomp", "linux.seccomp.defaultAction", errdefs.ErrNotImplemented, func(s *specs.Spec) { s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActKillProcess} }},
		{"hooks", "hooks.prestart", errdefs.ErrNotImplemented, func(s *specs.Spec) { s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/true"}}} }},
		{"newline", "process.env[1]", errdefs.ErrInvalidArgument, func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "A=1\nlxc.hook.pre-start = /bin/sh") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.t = t
			s := lcrSpec("true", t.TempDir())
			tc.edit(s)
			err := d.createSpec(t, "u1", s)
			if !errors.Is(err, tc.class) || !strings.Contains(err.Error(), tc.field+" ") {
				t.Fatalf("create: %v, want a %v error naming %s", err, tc.class, tc.field)
			}
			if out := d.corral("tasks", "ls").must(t); strings.Contains(out, "u1") {
				t.Errorf("task listed after a failed create:\n%s", out)
			}
			d.corral("containers", "rm", "u1").must(t)
			d.assertLXCGone(t, "u1")
		})
	}
}

// TestLCRStartError: a container LXC cannot set up fails to start with LXC's own error, and leaves
// nothing behind.
func TestLCRStartError(t *testing.T) {
	d := startDaemon(t, "")
	s := lcrSpec("true", t.TempDir())
	s.Linux.Resources.CPU = &specs.LinuxCPU{Cpus: "999"}
	if err := d.createSpec(t, "f1", s); err != nil {
		t.Fatal(err)
	}
	r := d.corral("tasks", "start", "f1")
	if r.code != 1 || !strings.Contains(r.stderr, "failed to start container f1: lxc-execute: ") ||
		!strings.Contains(r.stderr, `Failed to set "cpuset.cpus" to "999"`) ||
		strings.Count(r.stderr, "failed to start container") != 1 {
		t.Errorf("start: exit %d stderr %q, want LXC's error once", r.code, r.stderr)
	}
	d.wait(t, "f1")
	d.corral("containers", "rm", "f1").must(t)
	d.assertLXCGone(t, "f1")
}

// TestLCRRestore: a created container survives a corrald crash and starts afterwards; one killed by
// a signal while corrald is down reports that signal's status.
func TestLCRRestore(t *testing.T) {
	d := startDaemon(t, "")
	if err := d.createSpec(t, "created", lcrSpec("exit 3", t.TempDir())); err != nil {
		t.Fatal(err)
	}
	d.corral("run", "-d", "--rootfs", rootfs, "termed", "sleep", "1000").must(t)
	pid := d.taskPid(t, "termed", "RUNNING")
	d.kill()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(d.Bundle("default", "termed"), shim.ExitFile))
	d.start()
	if out := d.corral("tasks", "ls").must(t); !strings.Contains(out, "created") || !strings.Contains(out, "CREATED") {
		t.Errorf("created task not restored as created:\n%s", out)
	}
	if got := d.wait(t, "termed"); got != 143 {
		t.Errorf("exit status of the container SIGTERMed while corrald was down: %d, want 143", got)
	}
	d.corral("tasks", "start", "created").must(t)
	if got := d.wait(t, "created"); got != 3 {
		t.Errorf("exit status of the restored created container: %d, want 3", got)
	}
	d.corral("containers", "rm", "created", "termed").must(t)
	d.assertLXCGone(t, "created")
	d.assertLXCGone(t, "termed")
}

// TestLCRUnavailable: without the LXC tools, corral runtimes says why and using lcr fails with it.
func TestLCRUnavailable(t *testing.T) {
	d := startDaemonEnv(t, "", []string{"PATH=" + t.TempDir()})
	out := d.corral("runtimes").must(t)
	if !strings.Contains(out, "lxc-execute is not on $PATH") {
		t.Errorf("corral runtimes does not say why lcr is unavailable:\n%s", out)
	}
	r := d.corral("run", "--rm", "--rootfs", rootfs, "n1", "true")
	if r.code != 1 || !strings.Contains(r.stderr, `runtime "lcr" is not available`) || !strings.Contains(r.stderr, "lxc-execute is not on $PATH") {
		t.Errorf("run without LXC: exit %d stderr %q", r.code, r.stderr)
	}
	d.assertGone(t, "n1")
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, err := os.Stat(path); err != nil; _, err = os.Stat(path) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 30s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertLXCGone is assertGone plus what an LXC container leaves if it is not cleaned up: its
// processes (lxc-execute, LXC's init, the command) and its cgroups, the monitor's included.
func (d *daemon) assertLXCGone(t *testing.T, id string) {
	t.Helper()
	d.assertGone(t, id)
	dir := d.Bundle("default", id)
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(dir)) {
			t.Errorf("process %s still runs: %q", filepath.Dir(p), bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
	for _, pattern := range []string{"/sys/fs/cgroup/*/default/" + id, "/sys/fs/cgroup/default/" + id} {
		for _, suffix := range []string{"", ".monitor"} {
			if left, _ := filepath.Glob(pattern + suffix); len(left) > 0 {
				t.Errorf("cgroups left: %v", left)
			}
		}
	}
}

// cleanupLXC kills what lcr containers a failed test left (lxc-execute is in the monitor's cgroup)
// and removes their cgroups.
func (d *daemon) cleanupLXC() { cleanupLXCBundles(d.Bundle("*", "*")) }

// cleanupLXCBundles does what cleanupLXC does for the bundles that match pattern.
func cleanupLXCBundles(pattern string) {
	h, err := lxc.LoadHierarchies()
	if err != nil {
		return
	}
	configs, _ := filepath.Glob(filepath.Join(pattern, shim.ConfigFile))
	for _, f := range configs {
		c, err := shim.ReadConfig(filepath.Dir(f))
		if err != nil || c.LXC == nil {
			continue
		}
		for _, dir := range []string{c.LXC.Cgroup, c.LXC.Cgroup + lxc.MonitorSuffix} {
			cg := h.Cgroup(dir)
			for i := 0; i < 100; i++ {
				pids, _ := cg.Procs()
				if len(pids) == 0 {
					break
				}
				for _, p := range pids {
					_ = syscall.Kill(p, syscall.SIGKILL)
				}
				_ = cg.Thaw()
				time.Sleep(10 * time.Millisecond)
			}
			_ = cg.Remove()
		}
	}
}

// startDaemonEnv is startDaemon with corrald's environment replaced by env.
func startDaemonEnv(t *testing.T, extra string, env []string) *daemon {
	t.Helper()
	d := startDaemon(t, extra)
	d.kill()
	d.env = env
	d.start()
	return d
}

// TestLCRMissingCommand: a command not in the rootfs, or a missing rootfs, fails at create with a
// message that blames it, as with runc, rather than as a silent status 255 from lxc-execute.
func TestLCRMissingCommand(t *testing.T) {
	d := startDaemon(t, "")
	r := d.corral("run", "--rm", "--runtime", "lcr", "--rootfs", rootfs, "m1", "nosuchcmd")
	if r.code != 1 || !strings.Contains(r.stderr, `"nosuchcmd": executable file not found`) {
		t.Fatalf("exit %d stderr %q, want 1 and the missing command named", r.code, r.stderr)
	}
	d.assertGone(t, "m1")
	s := lcrSpec("true", t.TempDir())
	s.Root.Path += "-missing"
	if err := d.createSpec(t, "i8-norootfs", s); err == nil || !strings.Contains(err.Error(), "failed to find the container's rootfs") {
		t.Fatalf("create with a missing rootfs: %v, want the rootfs blamed", err)
	}
	d.corral("containers", "rm", "i8-norootfs").must(t)
	d.assertGone(t, "i8-norootfs")
}
