package lcr

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/corral-dev/corral/engine"
)

const hybridMountinfo = `25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
32 31 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
33 31 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
36 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct
37 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory
38 31 0:33 / /sys/fs/cgroup/my\040pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,pids
`

func TestParseMountinfo(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     *Hierarchies
		v2       bool
	}{
		{"hybrid", hybridMountinfo, &Hierarchies{Unified: "/sys/fs/cgroup/unified", V1: map[string]string{
			"name=systemd": "/sys/fs/cgroup/systemd", "cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
			"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/my pids"}}, false},
		{"unified", "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
			&Hierarchies{Unified: "/sys/fs/cgroup", V1: map[string]string{}}, true},
		{"unified with systemd's named v1", "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n33 31 0:28 / /run/sd rw - cgroup cgroup rw,name=systemd\n",
			&Hierarchies{Unified: "/sys/fs/cgroup", V1: map[string]string{"name=systemd": "/run/sd"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parseMountinfo(strings.NewReader(tc.in))
			if err != nil || !reflect.DeepEqual(h, tc.want) || h.V2() != tc.v2 {
				t.Errorf("parseMountinfo = %+v, %v (v2 %v); want %+v (v2 %v)", h, err, h.V2(), tc.want, tc.v2)
			}
		})
	}
	if _, err := parseMountinfo(strings.NewReader("25 30 0:23 / /sys rw - sysfs sysfs rw\n")); err == nil {
		t.Error("no error without cgroup mounts")
	}
}

// fakeHierarchies makes v1 hierarchies (or one unified) in a temporary directory, with the files
// of the container cgroup dir.
func fakeHierarchies(t *testing.T, v2 bool, dir string, files map[string]string) *Hierarchies {
	t.Helper()
	root := t.TempDir()
	h := &Hierarchies{V1: map[string]string{}}
	if v2 {
		h.Unified = root
	} else {
		for _, c := range []string{"cpu,cpuacct", "memory", "pids"} {
			h.V1[c] = filepath.Join(root, c)
		}
		for name := range files { // and the hierarchy of any other controller the files name
			if ctrl, _, _ := strings.Cut(name, "/"); h.Cgroup(dir).path(ctrl) == "" {
				h.V1[ctrl] = filepath.Join(root, ctrl)
			}
		}
	}
	for name, content := range files {
		ctrl, file, _ := strings.Cut(name, "/")
		p := filepath.Join(h.Cgroup(dir).path(ctrl), file)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func TestCgroupStats(t *testing.T) {
	for _, tc := range []struct {
		name  string
		v2    bool
		files map[string]string
		want  engine.Stats
	}{
		{"v1", false, map[string]string{"cpuacct/cpuacct.usage": "1500\n", "memory/memory.usage_in_bytes": "4096\n",
			"memory/memory.max_usage_in_bytes": "8192\n", "memory/memory.limit_in_bytes": "9223372036854771712\n",
			"pids/pids.current": "2\n", "pids/pids.max": "max\n", "pids/cgroup.procs": "10\n11\n"},
			engine.Stats{CPU: engine.CPUStats{UsageNanos: 1500}, Memory: engine.MemoryStats{Usage: 4096, MaxUsage: 8192}, Pids: engine.PidsStats{Current: 2}}},
		{"v1 counters", false, map[string]string{"cpuacct/cpuacct.usage": "1500\n", "cpuacct/cpuacct.usage_user": "1000\n",
			"cpuacct/cpuacct.usage_sys": "500\n", "cpu/cpu.stat": "nr_periods 9\nnr_throttled 4\nthrottled_time 700\n",
			"memory/memory.usage_in_bytes": "4096\n", "memory/memory.max_usage_in_bytes": "8192\n",
			"memory/memory.limit_in_bytes": "65536\n", "memory/memory.failcnt": "3\n", "memory/memory.memsw.usage_in_bytes": "5000\n",
			"memory/memory.kmem.usage_in_bytes": "300\n", "memory/memory.stat": "cache 10\ntotal_rss 20\n",
			"blkio/blkio.throttle.io_service_bytes_recursive": "8:0 Read 512\n8:0 Write 1024\nTotal 1536\n",
			"blkio/blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 2\nTotal 3\n",
			"pids/pids.current":                               "2\n", "pids/pids.max": "50\n", "pids/cgroup.procs": "10\n11\n"},
			engine.Stats{CPU: engine.CPUStats{UsageNanos: 1500, UserNanos: 1000, SystemNanos: 500, Periods: 9, ThrottledPeriods: 4, ThrottledNanos: 700},
				Memory: engine.MemoryStats{Usage: 4096, MaxUsage: 8192, Limit: 65536, Failcnt: 3, SwapUsage: 5000, KernelUsage: 300,
					Stat: map[string]uint64{"cache": 10, "total_rss": 20}},
				Pids: engine.PidsStats{Current: 2, Limit: 50},
				IO: engine.IOStats{ServiceBytes: []engine.IOEntry{{Major: 8, Op: "Read", Value: 512}, {Major: 8, Op: "Write", Value: 1024}},
					Serviced: []engine.IOEntry{{Major: 8, Op: "Read", Value: 1}, {Major: 8, Op: "Write", Value: 2}}}}},
		{"v2", true, map[string]string{"cpu/cpu.stat": "usage_usec 3\nuser_usec 2\nsystem_usec 1\nnr_periods 5\n",
			"memory/memory.current": "4096\n", "memory/memory.max": "67108864\n", "pids/pids.current": "1\n", "pids/pids.max": "100\n",
			"pids/cgroup.procs": "10\n11\n"},
			engine.Stats{CPU: engine.CPUStats{UsageNanos: 3000, UserNanos: 2000, SystemNanos: 1000, Periods: 5},
				Memory: engine.MemoryStats{Usage: 4096, Limit: 67108864}, Pids: engine.PidsStats{Current: 1, Limit: 100}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cg := fakeHierarchies(t, tc.v2, "default/c1", tc.files).Cgroup("default/c1")
			s, err := cg.Stats()
			if err != nil || !reflect.DeepEqual(*s, tc.want) {
				t.Errorf("Stats = %+v, %v; want %+v", s, err, tc.want)
			}
			if pids, err := cg.Procs(); err != nil || !reflect.DeepEqual(pids, []int{10, 11}) {
				t.Errorf("Procs = %v, %v", pids, err)
			}
		})
	}
}

func TestCgroupRemove(t *testing.T) {
	h := fakeHierarchies(t, false, "default/c1", map[string]string{"memory/sub/x": "", "pids/pids.max": "max"})
	// Cgroup directories hold only files the kernel provides; these test files must go first.
	_ = os.Remove(filepath.Join(h.V1["memory"], "default/c1/sub/x"))
	_ = os.Remove(filepath.Join(h.V1["pids"], "default/c1/pids.max"))
	cg := h.Cgroup("default/c1")
	if err := cg.Remove(); err != nil {
		t.Fatal(err)
	}
	for _, mnt := range h.V1 {
		if _, err := os.Stat(filepath.Join(mnt, "default/c1")); !os.IsNotExist(err) {
			t.Errorf("%s/default/c1 left: %v", mnt, err)
		}
		if _, err := os.Stat(filepath.Join(mnt, "default")); mnt != h.V1["cpu,cpuacct"] && err != nil {
			t.Errorf("the parent cgroup was removed too: %v", err)
		}
	}
	if pids, err := cg.Procs(); err != nil || pids != nil {
		t.Errorf("Procs of a removed cgroup = %v, %v", pids, err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	tool := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, name := range Tools {
		tool(name, "echo 5.0.2")
	}
	other := t.TempDir()
	for _, tc := range []struct {
		name    string
		look    func(string) (string, error)
		version string
		err     string
	}{
		{"all there", func(n string) (string, error) { return filepath.Join(dir, n), nil }, "5.0.2", ""},
		{"none", func(n string) (string, error) { return "", os.ErrNotExist }, "", "lxc-execute is not on $PATH"},
		{"split", func(n string) (string, error) {
			if n == "lxc-attach" {
				return filepath.Join(other, n), nil
			}
			return filepath.Join(dir, n), nil
		}, "", "lxc-attach is not on $PATH next to"},
		{"too old", func(n string) (string, error) {
			if n == "lxc-execute" {
				return tool("old/lxc-execute", "echo 3.0.4"), nil
			}
			return filepath.Join(dir, "old", n), nil
		}, "", "LXC 3.0.4 is too old"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.MkdirAll(filepath.Join(dir, "old"), 0o755)
			h, v, err := load(t.Context(), tc.look)
			if tc.err == "" {
				if err != nil || v != tc.version || h.Dir != dir || h.Cgroups == nil {
					t.Errorf("load = %+v, %q, %v", h, v, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("load error %v, want %q", err, tc.err)
			}
		})
	}
}
