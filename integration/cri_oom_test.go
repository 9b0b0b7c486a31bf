package integration

import (
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestCRIContainerOOM runs a container past its memory limit: it exits 137 with reason OOMKilled, on
// a corral keeper (runc), which records the kill in its bundle, and on containerd's runc shim (v2),
// where the /tasks/oom event of the pod's grouped shim says so. One under its limit exits 0,
// Completed. The pod is then stopped and removed.
func TestCRIContainerOOM(t *testing.T) {
	d := startCRIContainers(t, "")
	hold := func(n string) []string {
		return []string{"sh", "-c", `x=$(head -c ` + n + ` /dev/zero | tr "\0" a); echo ${#x}`}
	}
	for _, h := range []string{"runc", "v2"} {
		t.Run(h, func(t *testing.T) {
			if h == "v2" {
				requireTool(t, "containerd-shim-runc-v2")
			}
			podCfg := cricPod(t, "oom-"+h)
			pod := d.runp(t, h, podCfg)
			for _, tc := range []struct {
				name, size, reason string
				code               int
			}{
				{"under", "4m", "Completed", 0},
				{"over", "128m", "OOMKilled", 137},
			} {
				cfg := cricContainer("oom-"+h+"-"+tc.name, hold(tc.size)...)
				cfg.Linux.Resources = &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 64 << 20}
				id := d.create(t, pod, cfg, podCfg)
				d.crictl("start", id).must(t)
				st := d.waitState(t, id, "CONTAINER_EXITED")
				if st.Status.ExitCode != tc.code || st.Status.Reason != tc.reason {
					t.Errorf("%s: exit %d, reason %q; want %d, %q", tc.name, st.Status.ExitCode, st.Status.Reason, tc.code, tc.reason)
				}
			}
			d.crictl("stopp", pod).must(t)
			d.crictl("rmp", pod).must(t)
		})
	}
}
