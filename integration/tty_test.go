package integration

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ttyRuntimes are the runtimes whose families give processes terminals and let clients reattach to a
// running task's FIFOs. Today that is shim v2 only; add "lcr", "runc" and "runsc" here once the
// keeper supports terminals.
var ttyRuntimes = []string{"lcr", "runc", "runsc", "io.containerd.runc.v2"}

// TestTerminal runs `tty; stty size` with -t under a pseudo-terminal of a known size, through corral
// and through ctr, as run and as exec.
func TestTerminal(t *testing.T) {
	d := startDaemon(t, "")
	corral := func(args ...string) []string {
		return append([]string{filepath.Join(bins, "corral"), "--address", d.Address()}, args...)
	}
	ctr := func(args ...string) []string { return append([]string{"ctr", "--address", d.Address()}, args...) }
	// ctr sends the size only after the start, so its processes wait for it before reading it.
	const script, ctrScript = "tty; [ -t 0 ] && echo isatty; stty size", "tty; [ -t 0 ] && echo isatty; sleep 0.5; stty size"
	for _, rt := range ttyRuntimes {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			script := script
			if rt == "runsc" { // runsc sizes a terminal only once its master reaches the keeper, after the start
				script = ctrScript
			}
			d.removeOnFailure(t, "cli-tty-x")
			d.corral("run", "-d", "--runtime", rt, "--rootfs", rootfs, "cli-tty-x", "sleep", "1000").must(t)
			for _, tc := range []struct {
				name   string
				cmd    []string
				resize bool // the terminal becomes 40×100 while the process sleeps
			}{
				{name: "corral run", cmd: corral("run", "-t", "--rm", "--runtime", rt, "--rootfs", rootfs, "cli-tty-run", "sh", "-c", script)},
				{name: "corral exec", cmd: corral("tasks", "exec", "-t", "cli-tty-x", "sh", "-c", script)},
				{name: "corral run resized", cmd: corral("run", "-t", "--rm", "--runtime", rt, "--rootfs", rootfs, "cli-tty-run", "sh", "-c", "tty; [ -t 0 ] && echo isatty; sleep 1; stty size"), resize: true},
				{name: "corral exec resized", cmd: corral("tasks", "exec", "-t", "cli-tty-x", "sh", "-c", "tty; [ -t 0 ] && echo isatty; sleep 1; stty size"), resize: true},
				{name: "ctr run", cmd: ctr("run", "-t", "--rm", "--runtime", rt, "--rootfs", rootfs, "cli-tty-ctr", "sh", "-c", ctrScript)},
				{name: "ctr exec", cmd: ctr("tasks", "exec", "-t", "--exec-id", "cli-e1", "cli-tty-x", "sh", "-c", ctrScript)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					out, want := underPty(t, 23, 81, tc.cmd, tc.resize), "23 81\r"
					if tc.resize {
						want = "40 100\r"
					}
					// gVisor gives the process a terminal of its own that is no devpts node: tty finds no name.
					named := rt == "runsc" || regexp.MustCompile(`/dev/pts/\d+\r`).MatchString(out)
					if !named || !strings.Contains(out, "isatty") || !strings.Contains(out, want) || !strings.Contains(out, "rc=0") {
						t.Errorf("output %q, want a /dev/pts path, isatty, the size %q and rc=0", out, want)
					}
					if strings.HasPrefix(tc.name, "corral") && !strings.Contains(out, "restored") {
						t.Errorf("terminal settings not restored after corral exited: %q", out)
					}
				})
			}
			d.corral("tasks", "kill", "-s", "KILL", "cli-tty-x").must(t)
			d.wait(t, "cli-tty-x")
			d.corral("containers", "rm", "cli-tty-x").must(t)
			d.assertGone(t, "cli-tty-x")
			d.assertGone(t, "cli-tty-run")
			d.assertGone(t, "cli-tty-ctr")
		})
	}
}

// underPty runs cmd in a pseudo-terminal of rows×cols made by util-linux's script and returns what
// it printed, followed by rc=<its exit code> and, if the terminal settings were the same after it,
// "restored". With resize, the terminal becomes 40×100 after 0.3 s, which sends cmd SIGWINCH.
func underPty(t *testing.T, rows, cols int, cmd []string, resize bool) string {
	t.Helper()
	line := "stty rows " + strconv.Itoa(rows) + " cols " + strconv.Itoa(cols) + "; s=$(stty -g); "
	if resize {
		line += "(sleep 0.3; stty rows 40 cols 100 </dev/tty) & "
	}
	line += shellQuote(cmd) + `; echo rc=$?; [ "$(stty -g)" = "$s" ] && echo restored`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "script", "-qc", line, "/dev/null").CombinedOutput()
	if err != nil {
		t.Fatalf("script -qc %q: %v\n%s", line, err, out)
	}
	return string(out)
}

// shellQuote quotes args for sh.
func shellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}
