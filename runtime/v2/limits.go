package v2

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// answerGrace is how long past a runtime limit corrald waits for a shim's answer. A keeper bounds
// each runtime invocation by the limit itself, so its error, which names the runtime's step, comes
// first; a shim that bounds nothing is given up on within a second of the limit all the same.
const answerGrace = 500 * time.Millisecond

type limitKey struct{}

// bounded returns ctx bounded by limit plus answerGrace; limit is what a timeout error names.
func bounded(ctx context.Context, limit time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithValue(ctx, limitKey{}, limit), limit+answerGrace)
}

// runtimePids lists the processes working in the bundle that are not shims: the runtime
// invocations of the task's shim and whatever they started there.
func runtimePids(bundle string) []int {
	var pids []int
	for _, pid := range pidsIn(bundle) {
		cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err == nil && !slices.Contains(strings.Split(string(cmdline), "\x00"), "-id") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killStragglers kills what the task's runtime left running in the bundle once corrald gave up on
// a call or on the shim. A shim that bounds a runtime invocation kills the runtime, not the children
// it started; they hold its output, and the shim's call, and its lock on the container, would wait
// for them for ever.
func killStragglers(bundle string) {
	for _, pid := range runtimePids(bundle) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
