package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLogs: a detached container's output is kept in its log, read back by corral logs with its
// stream, rotated by size, followed until the exit, kept while corrald is down, and removed with the
// container, on every family.
func TestLogs(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range runtimes {
		t.Run(rt.name, func(t *testing.T) {
			d.t = t
			d.corral("run", "-d", "--runtime", rt.name, "--rootfs", rootfs, "log1", "sh", "-c",
				"echo o1; echo e1 >&2; echo o2; sleep 0.2; echo e2 >&2").must(t)
			d.wait(t, "log1")
			if r := d.corral("logs", "log1"); r.code != 0 || r.stdout != "o1\no2\n" || r.stderr != "e1\ne2\n" {
				t.Errorf("logs: exit %d stdout %q stderr %q, want o1 o2 and e1 e2", r.code, r.stdout, r.stderr)
			}
			if r := d.corral("logs", "--tail", "1", "log1"); r.stdout != "" || r.stderr != "e2\n" {
				t.Errorf("logs --tail 1: stdout %q stderr %q, want only e2", r.stdout, r.stderr)
			}
			path := filepath.Join(d.Root(), "logs", "default", "log1", "log1.log")
			var streams []string
			b, _ := os.ReadFile(path)
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var rec struct{ Log, Stream, Time string }
				if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Time == "" {
					t.Fatalf("log line %q is no json-file record: %v", line, err)
				}
				streams = append(streams, rec.Stream+":"+strings.TrimSpace(rec.Log))
			}
			if got := strings.Join(streams, " "); !inOrder(got, "stdout:o1", "stdout:o2") || !inOrder(got, "stderr:e1", "stderr:e2") || !inOrder(got, "stdout:o2", "stderr:e2") {
				t.Errorf("log records %q out of order", got)
			}

			// Rotation: at most max-file files of about max-size each.
			d.corral("run", "-d", "--runtime", rt.name, "--rootfs", rootfs, "--log-opt", "max-size=1k", "--log-opt", "max-file=2",
				"log2", "sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); done").must(t)
			d.wait(t, "log2")
			// A shim v2's logger is a process of its own, which may write its last lines after the exit.
			last := ""
			for deadline := time.Now().Add(5 * time.Second); last != "line 299\n" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				last = d.corral("logs", "--tail", "1", "log2").stdout
			}
			if last != "line 299\n" {
				t.Errorf("last line after rotation %q, want line 299", last)
			}
			files, _ := filepath.Glob(filepath.Join(d.Root(), "logs", "default", "log2", "log2.log*"))
			if len(files) != 2 {
				t.Errorf("log files %v, want the current one and one rotated", files)
			}

			// Follow until the exit; the keeper goes on writing while corrald is down.
			d.corral("run", "-d", "--runtime", rt.name, "--rootfs", rootfs, "log3", "sh", "-c",
				"i=0; while [ $i -lt 15 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done").must(t)
			d.restart()
			f := d.corral("logs", "-f", "log3")
			var want strings.Builder
			for i := range 15 {
				want.WriteString("tick " + strconv.Itoa(i) + "\n")
			}
			if f.code != 0 || f.stdout != want.String() {
				t.Errorf("logs -f across a corrald crash: exit %d stdout %q stderr %q", f.code, f.stdout, f.stderr)
			}
			d.corral("containers", "rm", "log1", "log2", "log3").must(t)
			if _, err := os.Stat(filepath.Join(d.Root(), "logs", "default", "log1")); !os.IsNotExist(err) {
				t.Errorf("logs of a removed container left: %v", err)
			}
			for _, id := range []string{"log1", "log2", "log3"} {
				d.assertGone(t, id)
			}
		})
	}
}

// inOrder reports whether a occurs in s before b.
func inOrder(s, a, b string) bool {
	i, j := strings.Index(s, a), strings.Index(s, b)
	return i >= 0 && j > i
}
