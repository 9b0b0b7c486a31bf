package cri

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fakeProc makes a /proc with processes: each pid's cgroup file and fds, each fd a link to its target.
func fakeProc(t *testing.T, procs map[string]struct {
	cgroup string
	fds    []string
}) string {
	t.Helper()
	proc := t.TempDir()
	for pid, p := range procs {
		fd := filepath.Join(proc, pid, "fd")
		if err := os.MkdirAll(fd, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proc, pid, "cgroup"), []byte(p.cgroup), 0o644); err != nil {
			t.Fatal(err)
		}
		for i, target := range p.fds {
			if err := os.Symlink(target, filepath.Join(fd, string(rune('0'+i)))); err != nil {
				t.Fatal(err)
			}
		}
	}
	return proc
}

func TestProcSamples(t *testing.T) {
	const own = "4:memory:/pods/c1\n8:pids:/pods/c1\n"
	proc := fakeProc(t, map[string]struct {
		cgroup string
		fds    []string
	}{
		"10": {own, []string{"/dev/null", "socket:[77]", "pipe:[5]"}},
		"11": {own, []string{"socket:[78]", "/tmp/x"}},
		"12": {"4:memory:/\n8:pids:/\n", []string{"socket:[1]", "socket:[2]"}}, // another process, not read
	})
	limits := "Limit                     Soft Limit           Hard Limit           Units\n" +
		"Max cpu time              unlimited            unlimited            seconds\n" +
		"Max open files            1024                 4096                 files\n"
	if err := os.WriteFile(filepath.Join(proc, "10", "limits"), []byte(limits), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &samples{labels: make([]string, len(baseLabels))}
	procSamples(s, proc, 10, []uint32{10, 11, 12})
	got := checkSamples(t, s.out)
	for key, want := range map[string]uint64{
		"container_processes": 3, "container_file_descriptors": 5, "container_sockets": 2,
		"container_ulimits_soft max_open_files": 1024,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %d (reported %v), want %d", key, v, ok, want)
		}
	}
}

func TestSoftLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "limits")
	if err := os.WriteFile(path, []byte("Max open files            unlimited            unlimited            files\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
	}{
		{"unlimited", path},
		{"no file", filepath.Join(t.TempDir(), "none")},
	} {
		if v, ok := softLimit(tc.path, "Max open files"); ok {
			t.Errorf("%s: soft limit %d, want none", tc.name, v)
		}
	}
}

func TestSpecSamples(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	for _, tc := range []struct {
		name string
		res  *specs.LinuxResources
		want map[string]uint64
	}{
		{"none", nil, map[string]uint64{}},
		{"unset", &specs.LinuxResources{CPU: &specs.LinuxCPU{}, Memory: &specs.LinuxMemory{Swap: i64(-1)}}, map[string]uint64{}},
		{"all", &specs.LinuxResources{
			CPU:    &specs.LinuxCPU{Period: u64(100000), Quota: i64(20000), Shares: u64(1024)},
			Memory: &specs.LinuxMemory{Limit: i64(64 << 20), Reservation: i64(32 << 20), Swap: i64(64 << 20)}},
			map[string]uint64{"container_spec_cpu_period": 100000, "container_spec_cpu_quota": 20000, "container_spec_cpu_shares": 1024,
				"container_spec_memory_limit_bytes": 64 << 20, "container_spec_memory_reservation_limit_bytes": 32 << 20,
				"container_spec_memory_swap_limit_bytes": 64 << 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &samples{labels: make([]string, len(baseLabels))}
			specSamples(s, tc.res)
			got := checkSamples(t, s.out)
			if len(got) != len(tc.want) {
				t.Errorf("samples %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %d, want %d", k, got[k], v)
				}
			}
		})
	}
}

func TestFsSamples(t *testing.T) {
	s := &samples{labels: make([]string, len(baseLabels))}
	if err := fsSamples(s, t.TempDir(), 4096); err != nil {
		t.Fatal(err)
	}
	got := checkSamples(t, s.out)
	if len(got) != 4 {
		t.Fatalf("samples %v, want usage, limit, inodes and free inodes of one device", got)
	}
	for _, m := range s.out {
		dev := m.GetLabelValues()[len(baseLabels)]
		switch {
		case dev == "":
			t.Errorf("%s has no device", m.GetName())
		case m.GetName() == "container_fs_usage_bytes" && m.GetValue().GetValue() != 4096:
			t.Errorf("usage %d, want the snapshotter's 4096", m.GetValue().GetValue())
		case m.GetName() == "container_fs_limit_bytes" && m.GetValue().GetValue() == 0:
			t.Error("a filesystem of 0 bytes")
		}
	}
	if err := fsSamples(s, filepath.Join(t.TempDir(), "none"), 1); err == nil {
		t.Error("no error for a root that is not there")
	}
}

func TestNetworkSamples(t *testing.T) {
	dev := "Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n" +
		"    lo:  100  1 0 0 0 0 0 0  100  1 0 0 0 0 0 0\n" +
		"  eth0: 2048 20 3 4 0 0 0 0 4096 40 5 6 0 0 0 0\n"
	path := filepath.Join(t.TempDir(), "dev")
	if err := os.WriteFile(path, []byte(dev), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &samples{labels: make([]string, len(baseLabels))}
	if err := networkSamples(s, path); err != nil {
		t.Fatal(err)
	}
	got := checkSamples(t, s.out)
	want := map[string]uint64{
		"container_network_receive_bytes_total eth0": 2048, "container_network_receive_packets_total eth0": 20,
		"container_network_receive_errors_total eth0": 3, "container_network_receive_packets_dropped_total eth0": 4,
		"container_network_transmit_bytes_total eth0": 4096, "container_network_transmit_packets_total eth0": 40,
		"container_network_transmit_errors_total eth0": 5, "container_network_transmit_packets_dropped_total eth0": 6,
	}
	if len(got) != len(want) {
		t.Errorf("samples %v, want eth0's only", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
}
