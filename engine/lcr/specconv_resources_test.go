package lcr_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/engine/lcr"
)

func TestCgroupSettings(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	u16 := func(v uint16) *uint16 { return &v }
	yes := true
	for _, tc := range []struct {
		name string
		r    specs.LinuxResources
		v2   bool
		want []string // file=value
	}{
		{"memory v1", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1 << 20), Reservation: i64(1 << 19), Swap: i64(2 << 20),
			Swappiness: u64(10), DisableOOMKiller: &yes}}, false,
			[]string{"memory.limit_in_bytes=1048576", "memory.soft_limit_in_bytes=524288", "memory.memsw.limit_in_bytes=2097152",
				"memory.swappiness=10", "memory.oom_control=1"}},
		{"memory v2", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1 << 20), Reservation: i64(-1), Swap: i64(3 << 20)}}, true,
			[]string{"memory.max=1048576", "memory.low=max", "memory.swap.max=2097152"}},
		{"memory v2 unlimited", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1), Swap: i64(-1)}}, true,
			[]string{"memory.max=max", "memory.swap.max=max"}},
		{"cpu v1", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(512), Quota: i64(50000), Period: u64(100000), Cpus: "0-1", Mems: "0"}}, false,
			[]string{"cpu.shares=512", "cpu.cfs_period_us=100000", "cpu.cfs_quota_us=50000", "cpuset.cpus=0-1", "cpuset.mems=0"}},
		{"cpu v2", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(1024), Quota: i64(50000)}}, true,
			[]string{"cpu.weight=39", "cpu.max=50000 100000"}},
		{"cpu v2 no quota", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(-1), Period: u64(20000)}}, true,
			[]string{"cpu.max=max 20000"}},
		{"pids", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(0)}}, false, []string{"pids.max=max"}},
		{"blkio v1", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(500),
			ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1000}}}}, false,
			[]string{"blkio.weight=500", "blkio.throttle.read_bps_device=8:0 1000"}},
		{"io v2", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(10),
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 7}}}}, true,
			[]string{"io.weight=default 1", "io.max=8:16 wiops=7"}},
		{"hugetlb", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4096}}}, true,
			[]string{"hugetlb.2MB.max=4096"}},
		{"network v1", specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: func() *uint32 { v := uint32(7); return &v }(),
			Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 3}}}}, false,
			[]string{"net_cls.classid=7", "net_prio.ifpriomap=eth0 3"}},
		{"unified", specs.LinuxResources{Unified: map[string]string{"memory.high": "1000", "io.weight": "default 50"}}, true,
			[]string{"io.weight=default 50", "memory.high=1000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, err := lcr.CgroupSettings(&tc.r, tc.v2)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, len(lines))
			for i, l := range lines {
				got[i] = l.Key + "=" + l.Value
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCgroupSettingsErrors(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	u16 := func(v uint16) *uint16 { return &v }
	for _, tc := range []struct {
		name  string
		r     specs.LinuxResources
		v2    bool
		field string
		class error
	}{
		{"negative limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-2)}}, false, "linux.resources.memory.limit", errdefs.ErrInvalidArgument},
		{"swap below limit v2", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(10), Swap: i64(5)}}, true, "linux.resources.memory.swap", errdefs.ErrInvalidArgument},
		{"swap without limit v2", specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(5)}}, true, "linux.resources.memory.swap", errdefs.ErrInvalidArgument},
		{"swappiness v2", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(1)}}, true, "linux.resources.memory.swappiness", errdefs.ErrNotImplemented},
		{"swappiness range", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(101)}}, false, "linux.resources.memory.swappiness", errdefs.ErrInvalidArgument},
		{"realtime v2", specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: i64(1)}}, true, "linux.resources.cpu.realtimeRuntime", errdefs.ErrNotImplemented},
		{"idle v1", specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: i64(1)}}, false, "linux.resources.cpu.idle", errdefs.ErrNotImplemented},
		{"cpus syntax", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-1\nx"}}, false, "linux.resources.cpu.cpus", errdefs.ErrInvalidArgument},
		{"weight range", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(5)}}, false, "linux.resources.blockIO.weight", errdefs.ErrInvalidArgument},
		{"leaf weight v2", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: u16(50)}}, true, "linux.resources.blockIO.leafWeight", errdefs.ErrNotImplemented},
		{"hugepage size", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2 MB"}}}, false, "linux.resources.hugepageLimits[0].pageSize", errdefs.ErrInvalidArgument},
		{"network v2", specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "lo"}}}}, true, "linux.resources.network", errdefs.ErrNotImplemented},
		{"unified key", specs.LinuxResources{Unified: map[string]string{"../x": "1"}}, true, "linux.resources.unified[../x]", errdefs.ErrInvalidArgument},
		{"unified value", specs.LinuxResources{Unified: map[string]string{"memory.high": "1\n"}}, true, "linux.resources.unified[memory.high]", errdefs.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := lcr.CgroupSettings(&tc.r, tc.v2)
			if !errors.Is(err, tc.class) || err == nil || !strings.HasPrefix(err.Error(), tc.field+" ") {
				t.Errorf("error %v, want one starting with %q that is %v", err, tc.field, tc.class)
			}
		})
	}
}
