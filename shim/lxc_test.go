package shim_test

import (
	"bufio"
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

	specs "github.com/opencontainers/runtime-spec/specs-go"

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

// lxcKeeper is a keeper with the lxc driver over a fresh work dir.
type lxcKeeper struct {
	client *shim.Client
	cgroup string
	cmd    *exec.Cmd
}

// startLXCKeeper runs Keep with the lxc driver for a container running script, in a spec edit may change.
func startLXCKeeper(t *testing.T, script string, edit func(*specs.Spec)) *lxcKeeper {
	t.Helper()
	rootfs := lxcRootfs(t)
	state, bundle := t.TempDir(), t.TempDir()
	id := "k" + strconv.Itoa(os.Getpid()) + strings.ReplaceAll(t.Name(), "/", "-")
	k := &lxcKeeper{client: shim.NewClient(state, "test", id, 10*time.Second)}
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
	h, err := lcr.LoadHierarchies()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := lcr.Translate(spec, lcr.TranslateOpts{CgroupV2: h.V2(), CgroupDir: "corral-shim-test/" + id})
	if err != nil {
		t.Fatal(err)
	}
	k.cgroup = cfg.Value("lxc.cgroup.dir.container")
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := k.client.MakeWorkDir(); err != nil {
		t.Fatal(err)
	}
	confDir := filepath.Join(k.client.Dir, shim.LXCPath, id)
	if err := os.MkdirAll(confDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confDir, "config"), cfg.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	tools, _ := exec.LookPath("lxc-execute")
	if err := shim.WriteConfig(k.client.Dir, &shim.Config{Namespace: "test", ID: id, Bundle: bundle, Socket: k.client.Socket,
		CreateTimeout: 10 * time.Second, IODrain: time.Second, Driver: shim.DriverLXC,
		LXC: &shim.LXCConfig{Name: id, Args: spec.Process.Args, Tools: filepath.Dir(tools), Cgroup: k.cgroup}}); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	k.cmd = exec.Command(os.Args[0], "-test.run=^$", k.client.Dir)
	k.cmd.Env = append(os.Environ(), keeperEnv+"=1")
	k.cmd.ExtraFiles = []*os.File{w}
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = k.cmd.Process.Kill()
		_ = k.cmd.Wait()
		for _, d := range []string{k.cgroup, k.cgroup + lcr.MonitorSuffix} {
			cg := h.Cgroup(d)
			for i := 0; i < 200; i++ { // the container dies with lxc-execute, which dies with the keeper
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
		_ = h.Cgroup("corral-shim-test").Remove()
	})
	line, err := bufio.NewReader(r).ReadBytes('\n')
	if err != nil || strings.TrimSpace(string(line)) != "{}" {
		t.Fatalf("keeper report %q, %v; want {} (no pid before start)", line, err)
	}
	return k
}

func (k *lxcKeeper) call(t *testing.T, req shim.Request) shim.Exit {
	t.Helper()
	e, err := k.client.Call(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: %v", req.Op, err)
	}
	return e
}

func (k *lxcKeeper) wait(t *testing.T, execID string) shim.Exit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := k.client.Wait(ctx, execID)
	if err != nil {
		t.Fatalf("wait %q: %v", execID, err)
	}
	return e
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
	k := startLXCKeeper(t, "exit 0", nil)
	k.call(t, shim.Request{Op: shim.OpKill, Signal: 28}) // SIGWINCH does not end a process
	k.call(t, shim.Request{Op: shim.OpKill, Signal: 15})
	if e := k.wait(t, ""); e.Status != 143 {
		t.Errorf("exit %+v after SIGTERM before start, want status 143", e)
	}
	if err := k.cmd.Wait(); err != nil {
		t.Errorf("keeper: %v", err)
	}
	if _, err := k.client.Call(context.Background(), shim.Request{Op: shim.OpStart}); err == nil {
		t.Error("a killed container started")
	}
}

func TestKeepLXC(t *testing.T) {
	k := startLXCKeeper(t, "trap 'exit 4' USR1; while true; do sleep 0.05; done", nil)
	pid := k.call(t, shim.Request{Op: shim.OpStart}).Pid
	if b, _ := os.ReadFile(filepath.Join(k.client.Dir, shim.InitPIDFile)); pid == 0 || string(b) != strconv.Itoa(int(pid)) {
		t.Fatalf("start answered pid %d, init.pid holds %q", pid, b)
	}
	if cmdline := cmdline(pid, "sh\x00-c\x00trap"); !strings.HasPrefix(cmdline, "sh\x00-c\x00trap") {
		t.Errorf("pid %d is %q, not the container's command", pid, cmdline)
	}
	if _, err := k.client.Call(context.Background(), shim.Request{Op: shim.OpStart}); err == nil {
		t.Error("started twice")
	}
	proc := &specs.Process{Args: []string{"sh", "-c", "[ $PWD = /proc ] && exit 7"}, Cwd: "/proc", Env: []string{"PATH=/bin"}}
	if e := k.call(t, shim.Request{Op: shim.OpExec, ExecID: "e1", Process: proc}); e.Pid == 0 {
		t.Error("exec answered no pid")
	}
	if e := k.wait(t, "e1"); e.Status != 7 {
		t.Errorf("exec exit %+v, want status 7", e)
	}
	k.call(t, shim.Request{Op: shim.OpKill, Signal: 10})
	if e := k.wait(t, ""); e.Status != 4 || e.Pid != pid {
		t.Errorf("exit %+v after SIGUSR1 trapped to exit 4, want pid %d status 4", e, pid)
	}
	if err := k.cmd.Wait(); err != nil {
		t.Errorf("keeper: %v", err)
	}
	h, _ := lcr.LoadHierarchies()
	for _, d := range []string{k.cgroup, k.cgroup + lcr.MonitorSuffix} {
		if pids, err := h.Cgroup(d).Procs(); err != nil || pids != nil {
			t.Errorf("cgroup %s left with processes %v, %v", d, pids, err)
		}
	}
}

// TestKeepLXCHostPIDs: without a pid namespace of its own, an exec is still told from lxc-attach's
// transient process, and the orphans of the command die with it.
func TestKeepLXCHostPIDs(t *testing.T) {
	k := startLXCKeeper(t, "sleep 1000 & trap 'exit 5' TERM; while true; do sleep 0.05; done", func(s *specs.Spec) {
		s.Linux.Namespaces = s.Linux.Namespaces[1:]
	})
	k.call(t, shim.Request{Op: shim.OpStart})
	for i := range 5 {
		id := "e" + strconv.Itoa(i)
		proc := &specs.Process{Args: []string{"sh", "-c", "trap 'exit 9' TERM; while true; do sleep 0.05; done"}, Cwd: "/", Env: []string{"PATH=/bin"}}
		pid := k.call(t, shim.Request{Op: shim.OpExec, ExecID: id, Process: proc}).Pid
		if cmdline := cmdline(pid, "sh\x00-c\x00trap"); !strings.HasPrefix(cmdline, "sh\x00-c\x00trap") {
			t.Errorf("exec pid %d is %q, not the exec's command", pid, cmdline)
		}
		time.Sleep(50 * time.Millisecond) // let the shell install its trap
		k.call(t, shim.Request{Op: shim.OpKill, ExecID: id, Signal: 15})
		if e := k.wait(t, id); e.Status != 9 {
			t.Errorf("exec %s exit %+v after SIGTERM trapped to exit 9", id, e)
		}
	}
	time.Sleep(50 * time.Millisecond)
	k.call(t, shim.Request{Op: shim.OpKill, Signal: 15})
	if e := k.wait(t, ""); e.Status != 5 {
		t.Errorf("exit %+v after SIGTERM trapped to exit 5", e)
	}
	h, _ := lcr.LoadHierarchies()
	if pids, _ := h.Cgroup(k.cgroup).Procs(); len(pids) > 0 {
		t.Errorf("processes %v outlived the container's command", pids)
	}
}
