package shim

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// children lists the child processes of pid, from every one of its threads.
func children(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(s); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// stat returns the fields of /proc/<pid>/stat from field 3 (state) on, nil if pid is gone.
func stat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	// The command (field 2) may hold spaces and parentheses: count from the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return nil
	}
	return f
}

// startTime is the start time of pid in clock ticks since boot (field 22 of /proc/<pid>/stat),
// 0 if it is gone.
func startTime(pid int) uint64 {
	f := stat(pid)
	if f == nil {
		return 0
	}
	t, _ := strconv.ParseUint(f[19], 10, 64)
	return t
}

// leadsSession says whether pid is the leader of its session (field 6 of /proc/<pid>/stat, in
// this process's pid namespace).
func leadsSession(pid int) bool {
	f := stat(pid)
	return f != nil && f[3] == strconv.Itoa(pid)
}

// firstChildIn returns the earliest started child of pid among pids that passes ok (any, if ok is
// nil), or 0.
func firstChildIn(pid int, pids []int, ok func(int) bool) int {
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	first, firstStart := 0, uint64(0)
	for _, c := range children(pid) {
		if !in[c] || ok != nil && !ok(c) {
			continue
		}
		if st := startTime(c); st != 0 && (first == 0 || st < firstStart) {
			first, firstStart = c, st
		}
	}
	return first
}
