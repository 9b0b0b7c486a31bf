package shim

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/corral-dev/corral/engine/lcr"
)

func TestOOMKills(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       uint64
	}{
		{"v1", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", 3},
		{"v2", "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n", 1},
		{"kernel without the counter", "oom_kill_disable 0\nunder_oom 0\n", 0},
		{"empty", "", 0},
	} {
		if got := oomKills([]byte(tc.text)); got != tc.want {
			t.Errorf("%s: %d kills, want %d", tc.name, got, tc.want)
		}
	}
}

func TestPickMemory(t *testing.T) {
	hybrid := &lcr.Hierarchies{V1: map[string]string{"memory": "/sys/fs/cgroup/memory", "cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
		"name=systemd": "/sys/fs/cgroup/systemd"}, Unified: "/sys/fs/cgroup/unified"}
	unified := &lcr.Hierarchies{V1: map[string]string{}, Unified: "/sys/fs/cgroup"}
	for _, tc := range []struct {
		name      string
		h         *lcr.Hierarchies
		cgroups   string
		mnt, path string
		v2, ok    bool
	}{
		{"hybrid", hybrid, "5:cpu,cpuacct:/a\n4:memory:/default/c1\n1:name=systemd:/x\n0::/y\n", "/sys/fs/cgroup/memory", "/default/c1", false, true},
		{"unified", unified, "0::/default/c1\n", "/sys/fs/cgroup", "/default/c1", true, true},
		{"v1 without memory", hybrid, "5:cpu,cpuacct:/a\n0::/y\n", "", "", false, false},
		{"memory not mounted", &lcr.Hierarchies{V1: map[string]string{"cpu": "/c"}}, "4:memory:/c1\n", "", "", false, false},
	} {
		mnt, path, v2, ok := pickMemory(tc.h, tc.cgroups)
		if mnt != tc.mnt || path != tc.path || v2 != tc.v2 || ok != tc.ok {
			t.Errorf("%s: got %q %q %v %v, want %q %q %v %v", tc.name, mnt, path, v2, ok, tc.mnt, tc.path, tc.v2, tc.ok)
		}
	}
}

// TestOOMWatchAnnounced: a kill announced on cgroup v1 before memory.oom_control counts it is
// reported once, not again when the counter shows it.
func TestOOMWatchAnnounced(t *testing.T) {
	counter := filepath.Join(t.TempDir(), "memory.oom_control")
	writeCounter(t, counter, "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
	n := 0
	w := &oomWatch{counter: counter, v1: true, killed: func() { n++ }}
	for _, step := range []struct {
		announced bool
		text      string
		want      int
	}{
		{true, "oom_kill 0\n", 1},
		{false, "oom_kill 1\n", 1},
		{true, "oom_kill 1\n", 2},
		{false, "oom_kill 3\n", 3},
		{false, "oom_kill 3\n", 3},
	} {
		writeCounter(t, counter, step.text)
		if !w.check(step.announced) {
			t.Fatal("check reports the cgroup gone")
		}
		if n != step.want {
			t.Fatalf("after %q (announced %v): %d kills reported, want %d", step.text, step.announced, n, step.want)
		}
	}
	os.Remove(counter)
	if w.check(true) || n != 3 {
		t.Errorf("a removed cgroup is still watched, or reports a kill: %d", n)
	}
}

// TestOOMWatchV2 drives the cgroup v2 watch through inotify on a file standing in for memory.events:
// kills before the watch, a kill during it, and the end of the watch when the cgroup goes.
func TestOOMWatchV2(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "memory.events")
	writeCounter(t, events, "oom 1\noom_kill 1\n")
	killed := make(chan struct{}, 10)
	w, err := watchCgroupOOM(dir, true, func() { killed <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer w.stop()
	wait := func(what string) {
		select {
		case <-killed:
		case <-time.After(time.Minute):
			t.Fatalf("no kill reported %s", what)
		}
	}
	wait("from before the watch")
	writeCounter(t, events, "oom 2\noom_kill 2\n")
	wait("during the watch")
	os.Remove(events) // the watch ends: run sees the cgroup gone
	w.stop()
	if len(killed) != 0 {
		t.Errorf("%d kills reported more than happened", len(killed))
	}
}

func writeCounter(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
