package integration

import (
	"strings"
	"testing"
)

// TestCRIByHand walks crictl's verbs through a pod on every handler, as issue 10's acceptance does by
// hand: runp, create, start, exec -it, attach, logs -f, port-forward, stats, stopp and rmp, with
// nothing left after.
func TestCRIByHand(t *testing.T) {
	requireTool(t, "script")
	d := startCRIContainers(t, "[cri.runtimes.runsc]\nruntime = \"runsc\"\n")
	for _, tc := range []struct{ handler, runtime string }{{"runc", "runc"}, {"runsc", "runsc"}, {"lxc", "lcr"}, {"v2", "io.containerd.runc.v2"}} {
		t.Run(tc.handler, func(t *testing.T) {
			requireRuntime(t, tc.runtime)
			if tc.runtime == "runsc" {
				requireTool(t, "runsc")
			}
			podCfg := crisPod(t, "byhand-"+tc.handler)
			pod := d.runp(t, tc.handler, podCfg)
			cfg := cricContainer("byhand-"+tc.handler, "sh", "-c", `mkdir /tmp/www; echo "web $(hostname)" > /tmp/www/index.html; httpd -p 8080 -h /tmp/www
i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done`)
			id := d.create(t, pod, cfg, podCfg)
			d.crictl("start", id).must(t)
			if st := d.waitState(t, id, "CONTAINER_RUNNING"); st.Info.Runtime != tc.runtime {
				t.Errorf("container runs on %q, want %q", st.Info.Runtime, tc.runtime)
			}

			// isatty, not tty(1): gVisor's terminal is no devpts node, so it has no name.
			if r := d.crictlIn(t, "", true, "exec", "-i", "-t", id, "sh", "-c", "'[ -t 0 ] && echo isatty in $(hostname)'"); r.code != 0 || !strings.Contains(r.stdout, "isatty in cris-byhand-"+tc.handler) {
				t.Errorf("exec -it: %+v", r)
			}
			if first := attachFirstLine(t, d, id); !strings.HasPrefix(first, "tick-") {
				t.Errorf("attach: first line %q", first)
			}
			if lines := d.followLog(t, id, 3); len(lines) < 3 || !strings.HasPrefix(lines[2], "tick-") {
				t.Errorf("logs -f: %q", lines)
			}
			d.portForwardGet(t, pod, 8080, "web cris-byhand-"+tc.handler+"\n")
			d.checkStats(t, id)

			d.crictl("stopp", pod).must(t)
			if st := d.inspectp(t, pod); st.Status.State != "SANDBOX_NOTREADY" {
				t.Errorf("after stopp: %+v", st.Status)
			}
			if st := d.inspect(t, id); st.Status.State != "CONTAINER_EXITED" {
				t.Errorf("container after stopp: %+v", st.Status)
			}
			d.crictl("rmp", pod).must(t)
			d.assertNoNetworkLeft(t, pod)
			if out := d.crictl("pods", "-q").must(t) + d.crictl("ps", "-a", "-q").must(t); strings.TrimSpace(out) != "" {
				t.Errorf("pods or containers left: %s", out)
			}
		})
	}
	if n := countMounts(t, d.dir); n > 0 {
		t.Errorf("%d mounts left under %s", n, d.dir)
	}
}
