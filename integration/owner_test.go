package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder stands in for a runtime tool: it records its parent's executable and its own command line,
// and execs the real tool, keeping its pid.
const recorder = `#!/bin/sh
printf '%s\t%s %s\n' "$(tr '\0' '\n' </proc/$PPID/cmdline | head -1)" "${0##*/}" "$*" >>"${0%/*}/parents"
exec REAL "$@"
`

// TestRuntimeRunByKeeperOnly: every runtime and LXC tool invocation for a task is made by its keeper,
// never by corrald, through a full lifecycle on the runc and lcr families.
func TestRuntimeRunByKeeperOnly(t *testing.T) {
	dir := t.TempDir()
	write := func(name, real string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Replace(recorder, "REAL", real, 1)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("runc", "/usr/sbin/runc")
	for _, tool := range []string{"lxc-execute", "lxc-attach", "lxc-info", "lxc-freeze", "lxc-unfreeze", "lxc-cgroup"} {
		write(tool, "/usr/bin/"+tool)
	}
	d := startDaemonEnv(t, "[runtimes.rec]\npath = \""+filepath.Join(dir, "runc")+"\"\n",
		[]string{"PATH=" + dir + ":" + os.Getenv("PATH")})
	for _, rt := range []string{"rec", "lcr"} {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			if r := d.corral("run", "--rm", "--runtime", rt, "--rootfs", rootfs, "own1", "sh", "-c", "exit 3"); r.code != 3 {
				t.Fatalf("run --rm: exit %d, stderr %q", r.code, r.stderr)
			}
			d.corral("run", "-d", "--runtime", rt, "--rootfs", rootfs, "own2", "sleep", "1000").must(t)
			d.corral("tasks", "exec", "own2", "true").must(t)
			d.corral("tasks", "pause", "own2").must(t)
			d.corral("tasks", "resume", "own2").must(t)
			d.corral("tasks", "ps", "own2").must(t)
			d.ctr("tasks", "metrics", "own2").must(t)
			d.corral("tasks", "kill", "-s", "KILL", "own2").must(t)
			if got := d.wait(t, "own2"); got != 137 {
				t.Fatalf("exit %d after SIGKILL, want 137", got)
			}
			d.corral("containers", "rm", "own2").must(t)
			d.assertGone(t, "own2")
		})
	}
	b, err := os.ReadFile(filepath.Join(dir, "parents"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, l := range lines {
		parent, call, _ := strings.Cut(l, "\t")
		switch by := filepath.Base(parent); {
		case by == "corrald" && call == "lxc-execute --version": // the engine's probe at start-up
		case by != "corral-shim":
			t.Errorf("%s ran a runtime tool, not the keeper: %s", by, l)
		}
	}
	for _, want := range []string{"create", "start", "exec", "pause", "resume", "ps", "events", "kill", "delete", "lxc-execute", "lxc-attach", "lxc-freeze"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("no recorded invocation of %s; the wrappers were bypassed:\n%s", want, b)
		}
	}
}
