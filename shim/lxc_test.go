package shim_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	task "github.com/containerd/containerd/api/runtime/task/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/engine/lcr"
	"github.com/corral-dev/corral/shim"
)

var (
	rootfsOnce sync.Once
	rootfsDir  string
	rootfsErr  error
)

// lxcRootfs builds a busybox rootfs once for the LXC keeper tests, or skips without root and LXC.
func lxcRootfs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: LXC containers need namespaces and cgroups")
	}
	if _, err := exec.LookPath("lxc-execute"); err != nil {
		t.Skip("needs LXC: lxc-execute is not on $PATH")
	}
	rootfsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "corral-shim-rootfs-")
		if err != nil {
			rootfsErr = err
			return
		}
		rootfsDir = filepath.Join(dir, "rootfs")
		if out, err := exec.Command("../contrib/mkrootfs.sh", rootfsDir).CombinedOutput(); err != nil {
			rootfsErr = err
			t.Logf("%s", out)
		}
	})
	if rootfsErr != nil {
		t.Fatal(rootfsErr)
	}
	return rootfsDir
}

// startLXCShim starts a keeper with the lxc driver and creates a container running script, in a spec
// edit may change.
func startLXCShim(t *testing.T, script string, edit func(*specs.Spec)) (*testShim, string) {
	t.Helper()
	rootfs := lxcRootfs(t)
	id := "k" + strconv.Itoa(os.Getpid()) + strings.ReplaceAll(t.Name(), "/", "-")
	spec := &specs.Spec{
		Root:    &specs.Root{Path: rootfs},
		Process: &specs.Process{Args: []string{"sh", "-c", script}, Cwd: "/", Env: []string{"PATH=/bin"}},
		Mounts:  []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace},
			{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}}},
	}
	if edit != nil {
		edit(spec)
	}
	s := startShim(t, id, spec)
	cgroup := "corral/test/" + id
	h, err := lcr.LoadHierarchies()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, d := range []string{cgroup, cgroup + lcr.MonitorSuffix} {
			cg := h.Cgroup(d)
			for i := 0; i < 200; i++ {
				pids, _ := cg.Procs()
				if len(pids) == 0 {
					break
				}
				for _, p := range pids {
					_ = syscall.Kill(p, syscall.SIGKILL)
				}
				time.Sleep(10 * time.Millisecond)
			}
			_ = cg.Remove()
		}
		_ = h.Cgroup("corral/test").Remove()
	})
	resp, err := s.create(t, keeper.Options{Driver: keeper.DriverLXC})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Pid != 0 {
		t.Fatalf("create answered pid %d before start", resp.Pid)
	}
	return s, cgroup
}

func (s *testShim) kill(t *testing.T, execID string, sig uint32) {
	t.Helper()
	must(s.task.Kill(context.Background(), &task.KillRequest{ID: s.id, ExecID: execID, Signal: sig}))
}

func (s *testShim) start(t *testing.T, execID string) uint32 {
	t.Helper()
	return must(s.task.Start(context.Background(), &task.StartRequest{ID: s.id, ExecID: execID})).Pid
}

func (s *testShim) exec(t *testing.T, execID string, p *specs.Process) uint32 {
	t.Helper()
	b, _ := json.Marshal(p)
	must(s.task.Exec(context.Background(), &task.ExecProcessRequest{ID: s.id, ExecID: execID, Spec: &anypb.Any{Value: b}}))
	return s.start(t, execID)
}

// cmdline reads the command line of pid once it starts with prefix, or gives up after half a second.
// The pid is found as soon as the process exists, which may be before it has exec'd its command or
// while the kernel is still setting up the new command line.
func cmdline(pid uint32, prefix string) string {
	var b []byte
	for range 100 {
		if b, _ = os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/cmdline"); strings.HasPrefix(string(b), prefix) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return string(b)
}

func TestKeepLXCKilledBeforeStart(t *testing.T) {
	k, _ := startLXCShim(t, "exit 0", nil)
	k.kill(t, "", 28) // SIGWINCH does not end a process
	k.kill(t, "", 15)
	if e := k.wait(t, ""); e.ExitStatus != 143 {
		t.Errorf("exit %v after SIGTERM before start, want status 143", e)
	}
	if _, err := k.task.Start(context.Background(), &task.StartRequest{ID: k.id}); err == nil {
		t.Error("a killed container started")
	}
	k.shutdown(t)
}

func TestKeepLXC(t *testing.T) {
	k, cgroup := startLXCShim(t, "trap 'exit 4' USR1; while true; do sleep 0.05; done", nil)
	pid := k.start(t, "")
	if b, _ := os.ReadFile(filepath.Join(k.bundle, shim.InitPIDFile)); pid == 0 || string(b) != strconv.Itoa(int(pid)) {
		t.Fatalf("start answered pid %d, init.pid holds %q", pid, b)
	}
	if cmdline := cmdline(pid, "sh\x00-c\x00trap"); !strings.HasPrefix(cmdline, "sh\x00-c\x00trap") {
		t.Errorf("pid %d is %q, not the container's command", pid, cmdline)
	}
	if _, err := k.task.Start(context.Background(), &task.StartRequest{ID: k.id}); err == nil {
		t.Error("started twice")
	}
	proc := &specs.Process{Args: []string{"sh", "-c", "[ $PWD = /proc ] && exit 7"}, Cwd: "/proc", Env: []string{"PATH=/bin"}}
	if pid := k.exec(t, "e1", proc); pid == 0 {
		t.Error("exec answered no pid")
	}
	if e := k.wait(t, "e1"); e.ExitStatus != 7 {
		t.Errorf("exec exit %v, want status 7", e)
	}
	k.kill(t, "", 10)
	if e := k.wait(t, ""); e.ExitStatus != 4 {
		t.Errorf("exit %v after SIGUSR1 trapped to exit 4, want status 4", e)
	}
	if st := must(k.task.State(context.Background(), &task.StateRequest{ID: k.id})); st.Pid != pid || st.ExitStatus != 4 {
		t.Errorf("state after exit %v, want pid %d status 4", st, pid)
	}
	k.shutdown(t)
	h, _ := lcr.LoadHierarchies()
	for _, d := range []string{cgroup, cgroup + lcr.MonitorSuffix} {
		if pids, err := h.Cgroup(d).Procs(); err != nil || pids != nil {
			t.Errorf("cgroup %s left with processes %v, %v", d, pids, err)
		}
	}
}

// TestKeepLXCHostPIDs: without a pid namespace of its own, an exec is still told from lxc-attach's
// transient process, and the orphans of the command die with it.
func TestKeepLXCHostPIDs(t *testing.T) {
	k, cgroup := startLXCShim(t, "sleep 1000 & trap 'exit 5' TERM; while true; do sleep 0.05; done", func(s *specs.Spec) {
		s.Linux.Namespaces = s.Linux.Namespaces[1:]
	})
	k.start(t, "")
	for i := range 5 {
		id := "e" + strconv.Itoa(i)
		proc := &specs.Process{Args: []string{"sh", "-c", "trap 'exit 9' TERM; while true; do sleep 0.05; done"}, Cwd: "/", Env: []string{"PATH=/bin"}}
		pid := k.exec(t, id, proc)
		if cmdline := cmdline(pid, "sh\x00-c\x00trap"); !strings.HasPrefix(cmdline, "sh\x00-c\x00trap") {
			t.Errorf("exec pid %d is %q, not the exec's command", pid, cmdline)
		}
		time.Sleep(50 * time.Millisecond) // let the shell install its trap
		k.kill(t, id, 15)
		if e := k.wait(t, id); e.ExitStatus != 9 {
			t.Errorf("exec %s exit %+v after SIGTERM trapped to exit 9", id, e)
		}
	}
	time.Sleep(50 * time.Millisecond)
	k.kill(t, "", 15)
	if e := k.wait(t, ""); e.ExitStatus != 5 {
		t.Errorf("exit %v after SIGTERM trapped to exit 5", e)
	}
	h, _ := lcr.LoadHierarchies()
	if pids, _ := h.Cgroup(cgroup).Procs(); len(pids) > 0 {
		t.Errorf("processes %v outlived the container's command", pids)
	}
}
