package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api"
)

// verbRuntimes are the runtimes the verbs are tried on: one of each family that runs real processes.
var verbRuntimes = []string{"lcr", "runc", "io.containerd.runc.v2"}

// short makes a runtime name fit in a container id.
func short(rt string) string { return strings.ReplaceAll(rt, ".", "-") }

// TestWaitStopRemove: tasks wait prints the exit status; tasks stop escalates to SIGKILL for a
// process that ignores SIGTERM and not for one that exits on it; rm refuses a running task and rm -f
// removes it and everything it held.
func TestWaitStopRemove(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range verbRuntimes {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			run := func(id, script string) {
				d.removeOnFailure(t, id)
				d.corral("run", "-d", "--runtime", rt, "--rootfs", rootfs, id, "sh", "-c", script).must(t)
			}

			waited := "dh-wait-" + short(rt)
			run(waited, "sleep 1; exit 3")
			for range 2 { // while it runs, then once it has exited
				if out := d.corral("tasks", "wait", waited).must(t); out != "3\n" {
					t.Errorf("tasks wait printed %q, want 3", out)
				}
			}
			d.corral("rm", waited).must(t)
			d.assertGone(t, waited)

			for _, tc := range []struct {
				trap     string
				min, max time.Duration
				status   string
			}{
				{trap: "''", min: 2 * time.Second, max: 30 * time.Second, status: "137"}, // ignored: KILL after the timeout
				{trap: "'exit 7'", max: 10 * time.Second, status: "7"},                   // handled: no KILL
			} {
				id := "dh-stop-" + short(rt)
				run(id, "trap "+tc.trap+" TERM; touch /dev/shm/ready; while true; do sleep 0.1; done")
				d.poll(t, id, "/dev/shm/ready", func(string) bool { return true })
				start := time.Now()
				d.corral("tasks", "stop", "--timeout", "2s", id).must(t)
				if took := time.Since(start); took < tc.min || took > tc.max {
					t.Errorf("stop with trap %s took %v, want %v to %v", tc.trap, took, tc.min, tc.max)
				}
				if out := d.corral("tasks", "wait", id).must(t); strings.TrimSpace(out) != tc.status {
					t.Errorf("status after stop with trap %s: %q, want %s", tc.trap, out, tc.status)
				}
				d.corral("rm", id).must(t)
				d.assertGone(t, id)
			}

			forced := "dh-rmf-" + short(rt)
			run(forced, "sleep 1000")
			if r := d.corral("rm", forced); r.code == 0 || !strings.Contains(r.stderr, "rm -f") {
				t.Errorf("rm of a running container: exit %d stderr %q", r.code, r.stderr)
			}
			d.taskPid(t, forced, "RUNNING")
			d.corral("rm", "-f", forced).must(t)
			d.assertGone(t, forced)
		})
	}
}

// TestUpdateStats: tasks update changes the memory limit and CPU quota the container sees in its
// cgroups, and tasks stats reports the memory limit and processes.
func TestUpdateStats(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range verbRuntimes {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			id := "dh-update-" + short(rt)
			d.removeOnFailure(t, id)
			d.createWithCgroups(t, rt, id)
			d.corral("tasks", "start", id).must(t)
			d.corral("tasks", "update", "--memory", "48m", "--cpus", "0.5", id).must(t)
			for file, want := range map[string]string{
				"/sys/fs/cgroup/memory/memory.limit_in_bytes": fmt.Sprint(48 << 20),
				"/sys/fs/cgroup/cpu/cpu.cfs_quota_us":         "50000",
			} {
				if got := d.corral("tasks", "exec", id, "cat", file).must(t); strings.TrimSpace(got) != want {
					t.Errorf("%s after update: %q, want %s", file, got, want)
				}
			}

			var stats []struct {
				ID          string `json:"id"`
				MemoryUsage uint64 `json:"memory_usage"`
				MemoryLimit uint64 `json:"memory_limit"`
				Pids        uint64 `json:"pids"`
			}
			out := d.corral("tasks", "stats", "--format", "json", id).must(t)
			if err := json.Unmarshal([]byte(out), &stats); err != nil || len(stats) != 1 {
				t.Fatalf("stats: %v\n%s", err, out)
			}
			if s := stats[0]; s.ID != id || s.MemoryLimit != 48<<20 || s.MemoryUsage == 0 || s.Pids < 1 {
				t.Errorf("stats %+v: want the 48 MiB limit, some memory used, at least one process", s)
			}
			table := d.corral("tasks", "stats", id).must(t)
			if !strings.HasPrefix(table, "TASK") || !containsAll(table, []string{id, "48MiB"}) {
				t.Errorf("stats table:\n%s", table)
			}
			d.corral("rm", "-f", id).must(t)
			d.assertGone(t, id)
		})
	}
}

// createWithCgroups creates container id on runtime rt, and its task, with a spec whose container
// sees its own cgroups at /sys/fs/cgroup.
func (d *daemon) createWithCgroups(t *testing.T, rt, id string) {
	t.Helper()
	s := lcrSpec("exec sleep 1000", t.TempDir())
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	conn, ctx := d.grpcConn(), nsCtx("default")
	c := &containersapi.Container{ID: id, Spec: &anypb.Any{TypeUrl: api.SpecTypeURL, Value: b}, Runtime: &containersapi.Container_Runtime{Name: rt}}
	if _, err := containersapi.NewContainersClient(conn).Create(ctx, &containersapi.CreateContainerRequest{Container: c}); err != nil {
		t.Fatal(err)
	}
	if _, err := tasksapi.NewTasksClient(conn).Create(ctx, &tasksapi.CreateTaskRequest{ContainerID: id}); err != nil {
		t.Fatal(err)
	}
}

// TestCLIVerbs: unknown verbs fail, completion scripts, versions with revisions, containers info as a
// table, info's counts and events with a filter.
func TestCLIVerbs(t *testing.T) {
	d := startDaemon(t, "")
	for _, args := range [][]string{{"tasks", "lss"}, {"containers", "lss"}, {"lss"}} {
		if r := d.corral(args...); r.code == 0 || !strings.Contains(r.stderr, `unknown command "lss"`) {
			t.Errorf("corral %v: exit %d stderr %q", args, r.code, r.stderr)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if out := d.corral("completion", shell).must(t); !strings.Contains(out, "corral") {
			t.Errorf("completion %s:\n%.200s", shell, out)
		}
	}
	if out := d.corral("version").must(t); strings.Count(out, "Revision: ") != 2 || strings.Contains(out, "Revision: \n") {
		t.Errorf("version without revisions:\n%s", out)
	}

	id := "dh-cli"
	d.removeOnFailure(t, id)
	exits := d.startCorral("events", "--filter", `topic=="/tasks/exit"`)
	d.corral("run", "-d", "--runtime", "runc", "--rootfs", rootfs, id, "sleep", "1000").must(t)
	if out := d.corral("containers", "info", "--format", "table", id).must(t); strings.ContainsAny(out, "{}") || !containsAll(out, []string{id, "runc", "sleep 1000"}) {
		t.Errorf("containers info --format table:\n%s", out)
	}
	if out := d.corral("containers", "info", id).must(t); !json.Valid([]byte(out)) {
		t.Errorf("containers info is not JSON:\n%s", out)
	}
	info := d.corral("info").must(t)
	for _, want := range []string{"Address:    " + d.Address(), "Config:     " + d.config, "Root:       " + d.Root(),
		"State:      " + d.State(), "Containers:   1", "Tasks:        1 (1 running)", "lcr (default)"} {
		if !strings.Contains(info, want) {
			t.Errorf("info has no %q:\n%s", want, info)
		}
	}
	d.corral("tasks", "kill", "-s", "KILL", id).must(t)
	select {
	case line := <-exits.lines:
		if !containsAll(line, []string{"/tasks/exit", `"container_id":"` + id + `"`, `"exit_status":137`}) {
			t.Errorf("event %q, want the exit of %s", line, id)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no /tasks/exit event")
	}
	d.corral("rm", id).must(t)
	d.assertGone(t, id)
}
