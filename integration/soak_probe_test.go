package integration

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corral-dev/corral/services/store"
)

// figures are the counts a soak must leave as it found them, in report order.
type figures map[string]int

var figureNames = []string{"corrald fds", "processes", "mounts", "cgroups", "bundles", "logs", "sockets", "fifos", "db rows"}

// clientSide are figures of corral, not corrald: the FIFO dirs a run -d makes, which rm -f cannot
// find once the task they were made for was rolled back at a restart. They are reported only.
var clientSide = map[string]bool{"fifos": true}

// counts takes every figure but the db rows, which need corrald stopped.
func (d *daemon) counts() figures {
	glob := func(patterns ...string) int {
		n := 0
		for _, p := range patterns {
			m, _ := filepath.Glob(p)
			n += len(m)
		}
		return n
	}
	f := figures{
		"corrald fds": glob(filepath.Join("/proc", strconv.Itoa(d.cmd.Process.Pid), "fd", "*")),
		"cgroups":     glob("/sys/fs/cgroup/*/default/i8-soak*", "/sys/fs/cgroup/default/i8-soak*", "/sys/fs/cgroup/*/corral/default/i8-soak*"),
		"bundles":     glob(filepath.Join(d.Root(), "bundles", "*", "*")),
		"logs":        glob(filepath.Join(d.Root(), "logs", "*", "*")),
		"sockets":     glob(filepath.Join(d.State(), "s", "*"), filepath.Join(d.State(), "e", "*")),
		"fifos":       glob("/run/corral/fifo/default/i8-soak*"),
	}
	// Keepers, shims and runtime invocations name corrald's directory; corrald is not counted.
	for _, p := range leftProcesses(d.dir) {
		if !strings.HasPrefix(p, strconv.Itoa(d.cmd.Process.Pid)+" ") {
			f["processes"]++
		}
	}
	if mi, err := os.Open("/proc/self/mountinfo"); err == nil {
		s := bufio.NewScanner(mi)
		for s.Scan() {
			if strings.Contains(s.Text(), d.dir) || strings.Contains(s.Text(), "i8-soak") {
				f["mounts"]++
			}
		}
		mi.Close()
	}
	return f
}

// probe takes every figure, then the db rows with corrald stopped for a moment.
func (d *daemon) probe(t *testing.T) figures {
	t.Helper()
	f := d.counts()
	d.kill()
	s, err := store.Open(filepath.Join(d.Root(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	nss, err := s.Namespaces()
	for _, ns := range nss {
		for _, kind := range []string{store.Containers, store.Tasks, store.Leases} {
			if err == nil {
				err = s.List(ns, kind, func(string, []byte) error { f["db rows"]++; return nil })
			}
		}
	}
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	d.start()
	return f
}

// sweep removes the containers failed cycles left, and returns how many there were.
func (d *daemon) sweep(t *testing.T) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(d.corral("containers", "ls").must(t), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "i8-soak") {
			n++
			if r := d.corral("rm", "-f", f[0]); r.code != 0 {
				t.Errorf("rm -f %s after the soak: %s", f[0], r.stderr)
			}
		}
	}
	return n
}

// settle waits up to 30 s for the figures to come back to before's, and returns them.
func (d *daemon) settle(t *testing.T, before figures) figures {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		f := d.counts()
		f["db rows"], f["fifos"] = before["db rows"], before["fifos"]
		if f.within(before) {
			break
		}
	}
	return d.probe(t)
}

// within reports whether no figure of f is above g's.
func (f figures) within(g figures) bool {
	for _, name := range figureNames {
		if f[name] > g[name] {
			return false
		}
	}
	return true
}

// report logs each figure before and after the soak, and fails the test for each that grew: what
// corrald holds idle may shrink by a connection being closed.
func (f figures) report(t *testing.T, after figures) {
	t.Helper()
	t.Logf("soak: %-12s %7s %7s", "FIGURE", "BEFORE", "AFTER")
	for _, name := range figureNames {
		t.Logf("soak: %-12s %7d %7d", name, f[name], after[name])
		if after[name] > f[name] && !clientSide[name] {
			t.Errorf("%s: %d before the soak, %d after", name, f[name], after[name])
		}
	}
}
