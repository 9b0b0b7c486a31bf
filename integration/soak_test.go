package integration

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var soak = flag.Bool("soak", false, "run TestSoak (make soak): SOAK_CYCLES, SOAK_CLIENTS, SOAK_KILLS, SOAK_RUNTIMES")

// soakEnv is the integer in the environment variable name, or def.
func soakEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n >= 0 {
		return n
	}
	return def
}

// soakStep is one corral invocation of a cycle and what it must give.
type soakStep struct {
	args   []string
	code   int
	stdout string
}

// soakCycle is what one cycle runs on runtime rt with container id: run -d, exec, kill, wait, rm,
// and a run --rm of its own.
func soakCycle(rt, id string) []soakStep {
	return []soakStep{
		{args: []string{"run", "-d", "--runtime", rt, "--rootfs", rootfs, id, "sleep", "1000"}},
		{args: []string{"tasks", "exec", id, "sh", "-c", "echo in; exit 5"}, code: 5, stdout: "in\n"},
		{args: []string{"tasks", "kill", "-s", "KILL", id}},
		{args: []string{"tasks", "wait", id}, stdout: "137\n"},
		{args: []string{"rm", id}},
		{args: []string{"run", "--rm", "--runtime", rt, "--rootfs", rootfs, id + "-r", "sh", "-c", "echo hi; exit 3"}, code: 3, stdout: "hi\n"},
	}
}

// runCycle runs a cycle and returns how it failed, removing what it left; nil if it did not.
func (d *daemon) runCycle(rt, id string) error {
	for _, s := range soakCycle(rt, id) {
		if r := d.corralQuiet(s.args...); r.code != s.code || r.stdout != s.stdout {
			_ = d.corralQuiet("rm", "-f", id)
			_ = d.corralQuiet("rm", "-f", id+"-r")
			return fmt.Errorf("%s: corral %s: exit %d, stdout %q, stderr %q", id, strings.Join(s.args, " "), r.code, r.stdout, strings.TrimSpace(r.stderr))
		}
	}
	return nil
}

// TestSoak runs SOAK_CYCLES (1000) cycles from SOAK_CLIENTS (8) clients over SOAK_RUNTIMES (lcr,
// runc, io.containerd.runc.v2), killing corrald with SIGKILL SOAK_KILLS (5) times on the way and
// restarting it at once. No cycle may fail but those in flight at a kill, and corrald's fds, the
// processes, mounts, cgroups, bundles, logs, sockets, FIFOs and db rows come back to their counts.
func TestSoak(t *testing.T) {
	if !*soak {
		t.Skip("a soak run: make soak, or go test -run TestSoak ./integration/ -soak")
	}
	cycles, clients, kills := soakEnv("SOAK_CYCLES", 1000), soakEnv("SOAK_CLIENTS", 8), soakEnv("SOAK_KILLS", 5)
	rts := strings.Split(os.Getenv("SOAK_RUNTIMES"), ",")
	if rts[0] == "" {
		rts = []string{"lcr", "runc", "io.containerd.runc.v2"}
	}
	d := startDaemon(t, "")
	for _, rt := range rts { // the first use of a family makes what it keeps (LXC's lxc.pivot cgroup)
		if err := d.runCycle(rt, "i8-soak-warm"); err != nil {
			t.Fatal(err)
		}
	}
	before := d.probe(t)
	var next, done, epoch atomic.Int64 // epoch is odd while corrald is down
	var mu sync.Mutex
	var failed, excused []error
	var wg sync.WaitGroup
	begin := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				for epoch.Load()%2 == 1 { // no cycle starts while corrald is down
					time.Sleep(10 * time.Millisecond)
				}
				e, i := epoch.Load(), int(next.Add(1))-1
				if i >= cycles {
					return
				}
				err := d.runCycle(rts[i%len(rts)], "i8-soak-"+strconv.Itoa(i))
				mu.Lock()
				if err != nil && epoch.Load() != e {
					excused = append(excused, err)
				} else if err != nil {
					failed = append(failed, err)
				}
				mu.Unlock()
				done.Add(1)
			}
		})
	}
	for k := 1; k <= kills; k++ {
		for done.Load() < int64(cycles*k/(kills+1)) {
			time.Sleep(10 * time.Millisecond)
		}
		epoch.Add(1)
		d.restart()
		epoch.Add(1)
	}
	wg.Wait()
	took := time.Since(begin)
	left := d.sweep(t)
	after := d.settle(t, before)
	t.Logf("soak: %d cycles from %d clients over %s in %s (%.1f cycles/s), %d kills of corrald",
		cycles, clients, strings.Join(rts, ", "), took.Round(time.Second), float64(cycles)/took.Seconds(), kills)
	t.Logf("soak: %d failed cycles, %d in flight at a kill (excused); %d containers left by them, removed after", len(failed), len(excused), left)
	for _, err := range append(failed, excused...) {
		t.Logf("soak: failed: %v", err)
	}
	before.report(t, after)
	if len(failed) > 0 {
		t.Errorf("%d cycles failed with no kill in flight", len(failed))
	}
}
