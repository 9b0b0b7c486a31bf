package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hangMark is the argument of the sleeps a hanging wrapper runtime leaves: no container runs it.
const hangMark = "4321"

// assertNothingLeft is assertGone plus what a runtime could leave of container id: a process whose
// command line names its bundle or is a hanging wrapper's sleep, and its cgroups.
func (d *daemon) assertNothingLeft(t *testing.T, id string) {
	t.Helper()
	d.assertGone(t, id)
	for _, p := range leftProcesses(d.Bundle("default", id), "sleep\x00"+hangMark) {
		t.Errorf("process still runs: %s", p)
	}
	if left := cgroupsOf("default", id); len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
}

// leftProcesses lists the processes whose command line contains any of marks.
func leftProcesses(marks ...string) []string {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var left []string
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		for _, m := range marks {
			if bytes.Contains(b, []byte(m)) {
				left = append(left, filepath.Base(filepath.Dir(p))+" "+strings.ReplaceAll(string(b), "\x00", " "))
				break
			}
		}
	}
	return left
}

// cgroupsOf lists the cgroups of container ns/id (corral's cgroupsPath is /<ns>/<id>), LXC's
// monitor's included, in every hierarchy.
func cgroupsOf(ns, id string) []string {
	var left []string
	for _, pattern := range []string{"/sys/fs/cgroup/*/" + ns + "/" + id + "*", "/sys/fs/cgroup/" + ns + "/" + id + "*"} {
		m, _ := filepath.Glob(pattern)
		for _, dir := range m {
			if base := filepath.Base(dir); base == id || base == id+".monitor" {
				left = append(left, dir)
			}
		}
	}
	return left
}
