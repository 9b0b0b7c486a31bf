package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hangingRuntime stands in for runc, and for the runc containerd-shim-runc-v2 finds on the PATH: it
// hangs in the subcommand the file "hang" next to it names, with a child in the background holding
// its output, and passes every other call to runc.
const hangingRuntime = `#!/bin/sh
hang=$(cat "${0%/*}/hang" 2>/dev/null)
for a in "$@"; do
	case "$a" in
	create|start|kill|delete|state|ps|pause|resume|exec|events|update)
		[ "$a" = "$hang" ] && { sleep 4321 & sleep 4321; }
		break ;;
	esac
done
exec /usr/sbin/runc "$@"
`

// hangingTool stands in for an LXC tool: it hangs likewise when the file "hang" names it.
const hangingTool = `#!/bin/sh
[ "$(cat "${0%/*}/hang" 2>/dev/null)" = "${0##*/}" ] && { sleep 4321 & sleep 4321; }
exec /usr/bin/${0##*/} "$@"
`

// Limits of the hung-runtime tests, as configured in [timeouts].
const (
	hungCreate = 3 * time.Second
	hungCall   = 2 * time.Second
	hungConfig = "[timeouts]\nruntime_create = \"3s\"\nruntime_call = \"2s\"\n"
)

// startHangingDaemon starts corrald with the hanging wrappers: runtime "i8hang" is the runc one, and
// corrald's PATH finds them as runc and the LXC tools. It returns the function that sets the hang.
func startHangingDaemon(t *testing.T) (*daemon, func(step string)) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("runc", hangingRuntime)
	for _, tool := range []string{"lxc-execute", "lxc-attach", "lxc-info", "lxc-freeze", "lxc-unfreeze", "lxc-cgroup"} {
		write(tool, hangingTool)
	}
	d := startDaemonEnv(t, "[runtimes.i8hang]\npath = \""+filepath.Join(dir, "runc")+"\"\n"+hungConfig,
		[]string{"PATH=" + dir + ":" + os.Getenv("PATH")})
	return d, func(step string) { write("hang", step) }
}

// hungCase is one hung runtime step and the verb that runs into it.
type hungCase struct {
	rt, hang string
	verb     []string // run against the container, whose id is appended unless the verb is run
	limit    time.Duration
	want     []string // what the error names: the runtime, the step, the limit
}

var hungCases = []hungCase{
	{"i8hang", "create", []string{"run", "-d"}, hungCreate, []string{"runc", "create", "3s"}},
	{"i8hang", "kill", []string{"tasks", "kill", "-s", "KILL"}, hungCall, []string{"runc", "kill", "2s"}},
	{"i8hang", "ps", []string{"tasks", "ps"}, hungCall, []string{"runc", "ps", "2s"}},
	{"i8hang", "pause", []string{"tasks", "pause"}, hungCall, []string{"runc", "pause", "2s"}},
	{"i8hang", "exec", []string{"tasks", "exec"}, hungCreate, []string{"runc", "exec", "3s"}},
	{"io.containerd.runc.v2", "create", []string{"run", "-d"}, hungCreate, []string{"io.containerd.runc.v2", "Create", "3s"}},
	{"io.containerd.runc.v2", "kill", []string{"tasks", "kill", "-s", "KILL"}, hungCall, []string{"io.containerd.runc.v2", "Kill", "2s"}},
	{"io.containerd.runc.v2", "ps", []string{"tasks", "ps"}, hungCall, []string{"io.containerd.runc.v2", "Pids", "2s"}},
	{"io.containerd.runc.v2", "pause", []string{"tasks", "pause"}, hungCall, []string{"io.containerd.runc.v2", "Pause", "2s"}},
	{"lcr", "lxc-execute", []string{"run", "-d"}, hungCreate, []string{"lxc-execute", "start", "3s"}},
	{"lcr", "lxc-freeze", []string{"tasks", "pause"}, hungCall, []string{"lxc-freeze", "pause", "2s"}},
	{"lcr", "lxc-attach", []string{"tasks", "exec"}, hungCreate, []string{"lxc-attach", "exec", "3s"}},
}

// TestHungRuntime: a runtime that hangs in a step fails the verb within the step's limit and a
// second, with an error naming the runtime, the step and the limit; corrald answers other clients
// meanwhile; once the hang is over, rm -f leaves nothing: no keeper, shim, runtime process (the
// hung one and its children included), cgroup or bundle.
func TestHungRuntime(t *testing.T) {
	d, hang := startHangingDaemon(t)
	for i, c := range hungCases {
		t.Run(c.rt+"/"+c.hang, func(t *testing.T) {
			d.t = t
			id := "i8-hung" + strconv.Itoa(i)
			run := []string{"run", "-d", "--log-driver", "none", "--runtime", c.rt, "--rootfs", rootfs, id, "sleep", "1000"}
			verb := run
			if c.verb[0] != "run" {
				d.corral(run...).must(t)
				verb = append(append([]string{}, c.verb...), id)
				if c.verb[1] == "exec" {
					verb = append(verb, "true")
				}
			}
			hang(c.hang)
			begin := time.Now()
			done := make(chan result, 1)
			go func() { done <- d.corralQuiet(verb...) }()
			time.Sleep(c.limit / 2)
			if took := d.timed(t, "tasks", "ls"); took > time.Second {
				t.Errorf("tasks ls took %s while a hung call was in flight", took)
			}
			r := <-done
			code, stderr, took := r.code, r.stderr, time.Since(begin)
			t.Logf("%v failed after %s: %s", c.verb, took.Round(time.Millisecond), strings.TrimSpace(stderr))
			if code == 0 || took > c.limit+time.Second {
				t.Errorf("%v: exit %d after %s, want a failure within %s", c.verb, code, took, c.limit+time.Second)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%v: error %q does not name %q", c.verb, stderr, w)
				}
			}
			hang("")
			d.removeAll(t, id)
			d.assertNothingLeft(t, id)
		})
	}
}

// TestHungDelete: with a runtime that hangs in delete, a task whose init died still reads stopped
// within runtime_call and a second, and it can be removed.
func TestHungDelete(t *testing.T) {
	d, hang := startHangingDaemon(t)
	for _, rt := range []string{"i8hang", "io.containerd.runc.v2"} {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			id := "i8-hdel"
			d.corral("run", "-d", "--log-driver", "none", "--runtime", rt, "--rootfs", rootfs, id, "sleep", "1000").must(t)
			pid := d.taskPid(t, id, "RUNNING")
			hang("delete")
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			begin := time.Now()
			for !strings.Contains(d.corral("tasks", "ls").must(t), "STOPPED") {
				if time.Since(begin) > hungCall+time.Second {
					t.Fatalf("task not stopped %s after its init died", time.Since(begin))
				}
				time.Sleep(20 * time.Millisecond)
			}
			begin = time.Now()
			r := d.corral("containers", "rm", id)
			took := time.Since(begin)
			t.Logf("containers rm with delete hanging: exit %d after %s: %s", r.code, took.Round(time.Millisecond), strings.TrimSpace(r.stderr))
			if took > hungCall+time.Second || (r.code != 0 && !strings.Contains(r.stderr, "delete")) {
				t.Errorf("containers rm took %s with a runtime hanging in delete (exit %d, %q)", took, r.code, r.stderr)
			}
			hang("")
			d.removeAll(t, id)
			d.assertNothingLeft(t, id)
		})
	}
}

// timed runs corral, which must succeed, and returns how long it took.
func (d *daemon) timed(t *testing.T, args ...string) time.Duration {
	t.Helper()
	begin := time.Now()
	d.corral(args...).must(t)
	return time.Since(begin)
}

// corralQuiet is corral for another goroutine than the test's: a failure to run it, or to end
// within two minutes, is exit code -1.
func (d *daemon) corralQuiet(args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(bins, "corral"), append([]string{"--address", d.Address()}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	if err != nil && cmd.ProcessState == nil {
		r.code, r.stderr = -1, err.Error()
	}
	return r
}
