package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ctr.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(d.crictl("create", "--no-pull", pod, path, podFile(t, podCfg)).must(t))
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
			switch tc.runtime {
			case "lcr":
				requireTool(t, "lxc-execute")
			case "io.containerd.runc.v2":
				requireTool(t, "containerd-shim-runc-v2")
			}
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
