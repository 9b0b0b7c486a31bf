package integration

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAttach runs detached containers, then attaches to them with corral and ctr, detaches by killing
// the client and attaches again: one that ticks and one that answers its stdin.
func TestAttach(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range ttyRuntimes {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			fifoDir := t.TempDir()
			attach := func(t *testing.T, client, id string) (*background, io.WriteCloser) {
				if client == "ctr" {
					return start(t, "ctr", "--address", d.Address(), "tasks", "attach", id)
				}
				return start(t, filepath.Join(bins, "corral"), "--address", d.Address(), "tasks", "attach", id)
			}

			t.Run("ticker", func(t *testing.T) {
				d.t = t
				d.removeOnFailure(t, "cli-att-tick")
				d.corral("run", "-d", "--fifo-dir", fifoDir, "--runtime", rt, "--rootfs", rootfs, "cli-att-tick",
					"sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done").must(t)
				last := -1
				for _, client := range []string{"corral", "ctr", "corral"} {
					b, _ := attach(t, client, "cli-att-tick")
					// Lines written while no client was attached wait in the FIFO; new ones follow.
					for range 3 {
						n := tick(t, b.nextLine(t))
						if n <= last {
							t.Fatalf("%s attach printed tick %d after tick %d", client, n, last)
						}
						last = n
					}
					b.cmd.Process.Kill()
					b.exitWithin(t, 10*time.Second)
					time.Sleep(300 * time.Millisecond)
				}
				d.taskPid(t, "cli-att-tick", "RUNNING")
				b, _ := attach(t, "corral", "cli-att-tick")
				b.nextLine(t)
				d.corral("tasks", "kill", "-s", "KILL", "cli-att-tick").must(t)
				if code := b.exitWithin(t, 10*time.Second); code != 137 {
					t.Errorf("attach exited %d when the task was killed, want 137", code)
				}
				d.corral("containers", "rm", "cli-att-tick").must(t)
				d.assertGone(t, "cli-att-tick")
			})

			t.Run("stdin", func(t *testing.T) {
				d.t = t
				d.removeOnFailure(t, "cli-att-echo")
				d.corral("run", "-d", "-i", "--fifo-dir", fifoDir, "--runtime", rt, "--rootfs", rootfs, "cli-att-echo",
					"sh", "-c", "while read l; do echo got $l; done; echo stdin closed").must(t)
				for i, tc := range []struct {
					client string
					detach syscall.Signal
				}{{"corral", syscall.SIGKILL}, {"corral", syscall.SIGTERM}, {"ctr", syscall.SIGKILL}, {"corral", syscall.SIGKILL}} {
					b, stdin := attach(t, tc.client, "cli-att-echo")
					word := "w" + strconv.Itoa(i)
					io.WriteString(stdin, word+"\n")
					b.waitLine(t, "got "+word)
					stdin.Close() // the client's stdin ends, the task's does not
					b.cmd.Process.Signal(tc.detach)
					code := b.exitWithin(t, 10*time.Second)
					if tc.client == "corral" && tc.detach == syscall.SIGTERM && code != 128+int(syscall.SIGTERM) {
						t.Errorf("corral attach exited %d on SIGTERM, want %d", code, 128+syscall.SIGTERM)
					}
					d.taskPid(t, "cli-att-echo", "RUNNING")
				}
				if entries, _ := os.ReadDir(filepath.Join(fifoDir, "default")); len(entries) != 1 {
					t.Errorf("FIFO dirs of the detached containers: %v, want one", entries)
				}
				d.corral("tasks", "kill", "-s", "KILL", "cli-att-echo").must(t)
				if code := d.corral("tasks", "attach", "cli-att-echo").code; code != 137 {
					t.Errorf("attach to the killed task exited %d, want 137", code)
				}
				d.corral("containers", "rm", "cli-att-echo").must(t)
				d.assertGone(t, "cli-att-echo")
				if entries, _ := os.ReadDir(filepath.Join(fifoDir, "default")); len(entries) != 0 {
					t.Errorf("FIFO dirs left after containers rm: %v", entries)
				}
			})
		})
	}
}

// start starts name with a pipe as its stdin, which it returns, and its stdout read by lines.
func start(t *testing.T, name string, args ...string) (*background, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(name, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &background{cmd: cmd, lines: make(chan string, 1000), done: make(chan error, 1)}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			b.lines <- s.Text()
		}
		close(b.lines)
		b.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return b, stdin
}

// nextLine returns the next line the invocation prints.
func (b *background) nextLine(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-b.lines:
		if !ok {
			t.Fatal("output ended")
		}
		return l
	case <-time.After(30 * time.Second):
		t.Fatal("no line within 30 s")
		return ""
	}
}

// tick returns N of a line "tick N".
func tick(t *testing.T, line string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(line, "tick "))
	if err != nil || !strings.HasPrefix(line, "tick ") {
		t.Fatalf("line %q, want tick N", line)
	}
	return n
}
