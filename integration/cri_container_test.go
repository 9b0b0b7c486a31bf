package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// criImage is the busybox image the container tests import into k8s.io.
const criImage = "docker.io/library/cric-busybox:1"

// startCRIContainers starts corrald for the container tests: the pause and busybox images in k8s.io.
func startCRIContainers(t *testing.T, extra string) *criDaemon {
	t.Helper()
	d := startCRI(t, extra, true)
	d.ctr("-n", "k8s.io", "images", "import", imageTar(t, t.TempDir(), criImage)).must(t)
	return d
}

// cricPod is a pod config named cric-<name>, logging to a fresh directory.
func cricPod(t *testing.T, name string) *runtimeapi.PodSandboxConfig {
	cfg := criPod(name)
	cfg.Metadata.Name = "cric-" + name
	cfg.Hostname = "cric-" + name
	cfg.LogDirectory = t.TempDir()
	return cfg
}

// cricContainer is a container config named cric-<name> running the busybox image with args.
func cricContainer(name string, args ...string) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "cric-" + name},
		Image:    &runtimeapi.ImageSpec{Image: criImage},
		Command:  args,
		LogPath:  "cric-" + name + ".log",
		Labels:   map[string]string{"cric": name},
		Linux:    &runtimeapi.LinuxContainerConfig{},
	}
}

// create creates container cfg in pod id (run from pod) and returns its id.
func (d *criDaemon) create(t *testing.T, pod string, cfg *runtimeapi.ContainerConfig, podCfg *runtimeapi.PodSandboxConfig) string {
	t.Helper()
	return strings.TrimSpace(d.crictl("create", "--no-pull", pod, ctrFile(t, cfg), podFile(t, podCfg)).must(t))
}

// ctrFile writes cfg to a file for crictl.
func ctrFile(t *testing.T, cfg *runtimeapi.ContainerConfig) string {
	return jsonFile(t, "ctr.json", cfg)
}

// ctrStatus is what `crictl inspect` prints that the tests read.
type ctrStatus struct {
	Status struct {
		ID         string `json:"id"`
		State      string `json:"state"`
		ExitCode   int    `json:"exitCode"`
		Reason     string `json:"reason"`
		StartedAt  string `json:"startedAt"`
		FinishedAt string `json:"finishedAt"`
		LogPath    string `json:"logPath"`
		ImageRef   string `json:"imageRef"`
		Image      struct{ Image string }
		Labels     map[string]string
	} `json:"status"`
	Info struct {
		Pid       int    `json:"pid"`
		Runtime   string `json:"runtime"`
		SandboxID string `json:"sandboxID"`
	} `json:"info"`
}

// inspect returns the status of container id.
func (d *criDaemon) inspect(t *testing.T, id string) ctrStatus {
	t.Helper()
	var st ctrStatus
	if err := json.Unmarshal([]byte(d.crictl("inspect", id).must(t)), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitState waits until container id is in state.
func (d *criDaemon) waitState(t *testing.T, id, state string) ctrStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := d.inspect(t, id)
		if st.Status.State == state {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s is %s, want %s", id, st.Status.State, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestCRIContainerLifecycle creates, starts, lists, inspects, stops and removes a container on the
// runc, lxc and shim v2 handlers: it runs in its pod's network, IPC and UTS namespaces with the pod's
// hostname, its env and working dir merged over the image's, and stop and rm leave nothing.
func TestCRIContainerLifecycle(t *testing.T) {
	d := startCRIContainers(t, "")
	for _, tc := range []struct{ handler, runtime string }{{"runc", "runc"}, {"lxc", "lcr"}, {"v2", "io.containerd.runc.v2"}} {
		t.Run(tc.handler, func(t *testing.T) {
			requireRuntime(t, tc.runtime)
			podCfg := cricPod(t, tc.handler)
			pod := d.runp(t, tc.handler, podCfg)
			cfg := cricContainer(tc.handler, "sh", "-c", `echo "$IMG $CRIC $(pwd)"; trap "echo term; exit 3" TERM; while true; do sleep 1; done`)
			cfg.Envs = []*runtimeapi.KeyValue{{Key: "CRIC", Value: []byte("env-" + tc.handler)}}
			cfg.WorkingDir = "/work"
			id := d.create(t, pod, cfg, podCfg)

			if st := d.inspect(t, id); st.Status.State != "CONTAINER_CREATED" || st.Status.StartedAt != "0001-01-01T00:00:00Z" && st.Status.StartedAt != "" {
				t.Errorf("created container: %+v", st)
			}
			if out := d.crictl("ps", "-a", "--label", "cric="+tc.handler).must(t); !strings.Contains(out, id[:13]) || !strings.Contains(out, "Created") {
				t.Errorf("crictl ps -a:\n%s", out)
			}
			d.crictl("start", id).must(t)
			st := d.waitState(t, id, "CONTAINER_RUNNING")
			if st.Info.Pid == 0 || st.Info.SandboxID != pod || st.Info.Runtime != tc.runtime || st.Status.Image.Image != criImage ||
				!strings.HasPrefix(st.Status.ImageRef, "sha256:") || st.Status.LogPath != filepath.Join(podCfg.LogDirectory, cfg.LogPath) {
				t.Errorf("running container: %+v", st)
			}
			out := d.crictl("ps", "--pod", pod).must(t)
			if !strings.Contains(out, id[:13]) || !strings.Contains(out, "Running") || !strings.Contains(out, "cric-"+tc.handler) {
				t.Errorf("crictl ps --pod:\n%s", out)
			}
			if out := d.crictl("ps", "-q", "--state", "exited").must(t); strings.Contains(out, id) {
				t.Errorf("crictl ps --state exited lists the running container")
			}
			pst := d.inspectp(t, pod)
			for _, ns := range []string{"net", "ipc", "uts"} {
				if nsInode(t, fmt.Sprintf("/proc/%d/ns/%s", st.Info.Pid, ns)) != nsInode(t, fmt.Sprintf("/proc/%d/ns/%s", pst.Info.Pid, ns)) {
					t.Errorf("container is not in its pod's %s namespace", ns)
				}
			}
			if out := nsenter(t, st.Info.Pid, "-u", "hostname"); strings.TrimSpace(out) != "cric-"+tc.handler {
				t.Errorf("container hostname %q", out)
			}

			if out := d.waitLog(t, id, "busybox env-"+tc.handler+" /work"); !strings.Contains(readFile(t, st.Status.LogPath), " stdout F busybox env-"+tc.handler+" /work") {
				t.Errorf("log file is not in the CRI format; crictl logs:\n%s", out)
			}
			d.crictl("stop", "--timeout", "10", id).must(t)
			st = d.inspect(t, id)
			if st.Status.State != "CONTAINER_EXITED" || st.Status.ExitCode != 3 || st.Status.Reason != "Error" || st.Status.FinishedAt == "" {
				t.Errorf("stopped container: %+v", st)
			}
			d.crictl("stop", id).must(t) // again: nothing to do
			d.crictl("rm", id).must(t)
			if out := d.crictl("ps", "-a", "-q").must(t); strings.Contains(out, id) {
				t.Errorf("crictl ps -a after rm: %s", out)
			}
			if out := d.ctr("-n", "k8s.io", "containers", "ls", "-q").must(t); strings.Contains(out, id) {
				t.Errorf("ctr containers ls after rm: %s", out)
			}
			rs := runtimeapi.NewRuntimeServiceClient(d.grpcConn())
			if _, err := rs.StopContainer(context.Background(), &runtimeapi.StopContainerRequest{ContainerId: id}); err != nil {
				t.Errorf("StopContainer of a removed container: %v", err)
			}
			if _, err := rs.RemoveContainer(context.Background(), &runtimeapi.RemoveContainerRequest{ContainerId: id}); err != nil {
				t.Errorf("RemoveContainer of a removed container: %v", err)
			}
			d.crictl("stopp", pod).must(t)
			d.crictl("rmp", pod).must(t)
		})
	}
}

// waitLog waits until crictl logs of container id shows want, and returns the logs.
func (d *criDaemon) waitLog(t *testing.T, id, want string, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := d.crictl(append(append([]string{"logs"}, args...), id)...)
		if strings.Contains(out.stdout+out.stderr, want) {
			return out.stdout + out.stderr
		}
		if time.Now().After(deadline) {
			t.Fatalf("crictl logs %s: no %q in\n%s%s", id, want, out.stdout, out.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestCRIContainerExecStatsUpdate checks crictl exec (sync, with its exit code, output and timeout),
// stats, update and logs -f on the runc handler, and the container events of a lifecycle.
func TestCRIContainerExecStatsUpdate(t *testing.T) {
	d := startCRIContainers(t, "")
	for _, tc := range []struct{ handler string }{{"runc"}, {"lxc"}} {
		t.Run(tc.handler, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			events, err := runtimeapi.NewRuntimeServiceClient(d.grpcConn()).GetContainerEvents(ctx, &runtimeapi.GetEventsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			podCfg := cricPod(t, "x-"+tc.handler)
			pod := d.runp(t, tc.handler, podCfg)
			id := d.create(t, pod, cricContainer("x-"+tc.handler, "sh", "-c", `i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.2; done`), podCfg)
			d.crictl("start", id).must(t)
			st := d.waitState(t, id, "CONTAINER_RUNNING")

			r := d.crictl("exec", "-s", id, "sh", "-c", "echo out-$(hostname); echo err >&2; exit 7")
			if r.code == 0 || !strings.Contains(r.stderr, "exited with 7: err") {
				t.Errorf("crictl exec: exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
			}
			if out := d.crictl("exec", "-s", id, "sh", "-c", "echo out-$(hostname)").must(t); strings.TrimSpace(out) != "out-cric-x-"+tc.handler {
				t.Errorf("crictl exec stdout: %q", out)
			}
			start := time.Now()
			if r := d.crictl("exec", "-s", "--timeout", "1", id, "sleep", "30"); r.code == 0 || !strings.Contains(r.stderr, "timed out") || time.Since(start) > 15*time.Second {
				t.Errorf("crictl exec past its timeout: exit %d after %s\n%s", r.code, time.Since(start), r.stderr)
			}

			d.checkStats(t, id)

			var podStats struct {
				Stats []struct {
					Attributes struct{ ID string }
					Linux      struct {
						CPU     struct{ UsageCoreNanoSeconds struct{ Value string } }
						Memory  struct{ WorkingSetBytes struct{ Value string } }
						Network struct {
							DefaultInterface struct {
								Name    string
								RxBytes struct{ Value string }
							}
						}
						Containers []struct{ Attributes struct{ ID string } }
					}
				}
			}
			if err := json.Unmarshal([]byte(d.crictl("statsp", "-o", "json", "--id", pod).must(t)), &podStats); err != nil {
				t.Fatal(err)
			}
			if ps := podStats.Stats; len(ps) != 1 || ps[0].Attributes.ID != pod || ps[0].Linux.CPU.UsageCoreNanoSeconds.Value == "" ||
				ps[0].Linux.Memory.WorkingSetBytes.Value == "" || ps[0].Linux.Memory.WorkingSetBytes.Value == "0" ||
				ps[0].Linux.Network.DefaultInterface.Name != "eth0" || len(ps[0].Linux.Containers) != 1 || ps[0].Linux.Containers[0].Attributes.ID != id {
				t.Errorf("crictl statsp: %+v", podStats)
			}

			d.crictl("update", "--memory", "67108864", "--cpu-share", "512", id).must(t)
			if got := readFile(t, cgroupFile(t, st.Info.Pid, "memory", "memory.limit_in_bytes")); got != "67108864" {
				t.Errorf("memory limit after update: %s", got)
			}
			if got := readFile(t, cgroupFile(t, st.Info.Pid, "cpu", "cpu.shares")); got != "512" {
				t.Errorf("cpu shares after update: %s", got)
			}

			if lines := d.followLog(t, id, 5); len(lines) < 5 || !strings.HasPrefix(lines[4], "tick ") {
				t.Errorf("crictl logs -f: %q", lines)
			}

			// Rotation as kubelet does it: move the log away, then ReopenContainerLog.
			rotated := st.Status.LogPath + ".1"
			if err := os.Rename(st.Status.LogPath, rotated); err != nil {
				t.Fatal(err)
			}
			if _, err := runtimeapi.NewRuntimeServiceClient(d.grpcConn()).ReopenContainerLog(context.Background(),
				&runtimeapi.ReopenContainerLogRequest{ContainerId: id}); err != nil {
				t.Fatalf("ReopenContainerLog: %v", err)
			}
			size := len(readFile(t, rotated))
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				if b, _ := os.ReadFile(st.Status.LogPath); strings.Contains(string(b), " stdout F tick ") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no new lines in the reopened log %s", st.Status.LogPath)
				}
			}
			if got := len(readFile(t, rotated)); got != size {
				t.Errorf("the rotated log grew after the reopen: %d to %d bytes", size, got)
			}

			d.crictl("stop", "--timeout", "0", id).must(t)
			d.crictl("rm", id).must(t)
			want := []runtimeapi.ContainerEventType{runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT,
				runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT}
			for _, w := range want {
				ev, err := events.Recv()
				if err != nil {
					t.Fatalf("container events: %v", err)
				}
				if ev.GetContainerId() != id || ev.GetContainerEventType() != w {
					t.Errorf("container event %s %s, want %s %s", ev.GetContainerId(), ev.GetContainerEventType(), id, w)
				}
			}
			d.crictl("rmp", "-f", pod).must(t)
		})
	}
}

// cgroupFile is file in the cgroup v1 controller's directory of process pid.
func cgroupFile(t *testing.T, pid int, controller, file string) string {
	t.Helper()
	for _, l := range strings.Split(readFile(t, fmt.Sprintf("/proc/%d/cgroup", pid)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) == 3 && slices.Contains(strings.Split(parts[1], ","), controller) {
			return filepath.Join("/sys/fs/cgroup", parts[1], parts[2], file)
		}
	}
	t.Fatalf("process %d has no %s cgroup", pid, controller)
	return ""
}

// TestCRIContainerSecurityContext checks run_as_user, a read-only rootfs and capabilities on runc.
func TestCRIContainerSecurityContext(t *testing.T) {
	d := startCRIContainers(t, "")
	podCfg := cricPod(t, "sec")
	pod := d.runp(t, "runc", podCfg)
	cfg := cricContainer("sec", "sleep", "3600")
	cfg.Linux.SecurityContext = &runtimeapi.LinuxContainerSecurityContext{
		RunAsUser: &runtimeapi.Int64Value{Value: 1000}, RunAsGroup: &runtimeapi.Int64Value{Value: 1000},
		SupplementalGroups: []int64{3000}, ReadonlyRootfs: true, NoNewPrivs: true,
		Capabilities: &runtimeapi.Capability{DropCapabilities: []string{"ALL"}, AddCapabilities: []string{"NET_ADMIN"}},
		Seccomp:      &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
	}
	id := d.create(t, pod, cfg, podCfg)
	d.crictl("start", id).must(t)
	d.waitState(t, id, "CONTAINER_RUNNING")
	if out := d.crictl("exec", "-s", id, "id").must(t); !strings.Contains(out, "uid=1000") || !strings.Contains(out, "gid=1000") || !strings.Contains(out, "3000") {
		t.Errorf("id in the container: %s", out)
	}
	if r := d.crictl("exec", "-s", id, "touch", "/cric-ro"); r.code == 0 || !strings.Contains(r.stdout+r.stderr, "Read-only file system") {
		t.Errorf("write to the read-only rootfs: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	d.crictl("exec", "-s", id, "touch", "/tmp/../dev/shm/cric-rw").must(t) // /dev/shm stays writable
	status := d.crictl("exec", "-s", id, "cat", "/proc/self/status").must(t)
	for _, want := range []string{"CapBnd:\t0000000000001000", "NoNewPrivs:\t1", "Seccomp:\t2"} {
		if !strings.Contains(status, want) {
			t.Errorf("no %q in the container's status:\n%s", want, status)
		}
	}
	d.crictl("rmp", "-f", pod).must(t)
	if out := d.ctr("-n", "k8s.io", "containers", "ls", "-q").must(t); strings.TrimSpace(out) != "" {
		t.Errorf("containers after rmp -f: %s", out)
	}
}

// TestCRIContainerSurvivesRestart kills corrald with SIGKILL under running containers on runc and
// lxc: after the restart crictl ps shows them running with the same pids, and their logs go on.
func TestCRIContainerSurvivesRestart(t *testing.T) {
	requireTool(t, "lxc-execute")
	d := startCRIContainers(t, "")
	ids := map[string]string{}
	pids := map[string]int{}
	for _, h := range []string{"runc", "lxc"} {
		podCfg := cricPod(t, "restart-"+h)
		pod := d.runp(t, h, podCfg)
		ids[h] = d.create(t, pod, cricContainer("restart-"+h, "sh", "-c", `i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.2; done`), podCfg)
		d.crictl("start", ids[h]).must(t)
		pids[h] = d.waitState(t, ids[h], "CONTAINER_RUNNING").Info.Pid
		d.waitLog(t, ids[h], "tick 2")
	}
	d.restart()
	out := d.crictl("ps").must(t)
	for h, id := range ids {
		if !strings.Contains(out, id[:13]) {
			t.Errorf("crictl ps after kill -9 of corrald has no %s container:\n%s", h, out)
		}
		if st := d.inspect(t, id); st.Status.State != "CONTAINER_RUNNING" || st.Info.Pid != pids[h] {
			t.Errorf("%s container after kill -9 of corrald: %+v, pid before %d", h, st, pids[h])
		}
		logs := d.crictl("logs", id).must(t)
		n := strings.Count(logs, "tick ")
		d.waitLog(t, id, fmt.Sprintf("tick %d", n+3))
	}
	for _, pod := range strings.Fields(d.crictl("pods", "-q").must(t)) {
		d.crictl("rmp", "-f", pod).must(t)
	}
}

// followLog runs crictl logs -f --tail 1 on container id until it printed n lines, or 20 s passed,
// and returns the lines.
func (d *criDaemon) followLog(t *testing.T, id string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	follow := exec.CommandContext(ctx, d.crictlBin, d.crictlArgs([]string{"logs", "-f", "--tail", "1", id})...)
	out, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var lines []string
	for len(lines) < n && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	cancel()
	_ = follow.Wait()
	return lines
}

// checkStats checks crictl stats of container id: one entry, for it, with its CPU usage and a
// working set above zero.
func (d *criDaemon) checkStats(t *testing.T, id string) {
	t.Helper()
	var stats struct {
		Stats []struct {
			Attributes struct{ ID string }
			CPU        struct{ UsageCoreNanoSeconds struct{ Value string } }
			Memory     struct{ WorkingSetBytes struct{ Value string } }
		}
	}
	if err := json.Unmarshal([]byte(d.crictl("stats", "-o", "json", "--id", id).must(t)), &stats); err != nil {
		t.Fatal(err)
	}
	if s := stats.Stats; len(s) != 1 || s[0].Attributes.ID != id || s[0].CPU.UsageCoreNanoSeconds.Value == "" ||
		s[0].Memory.WorkingSetBytes.Value == "" || s[0].Memory.WorkingSetBytes.Value == "0" {
		t.Errorf("crictl stats: %+v", stats)
	}
}
