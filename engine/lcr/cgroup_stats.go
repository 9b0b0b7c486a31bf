package lcr

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/corral-dev/corral/engine"
)

// Stats reads the container's CPU, memory, pids and block I/O usage. The usage and limit files
// must be there; the counters a host may lack (swap and kernel memory accounting, blkio) are 0 then.
func (c *Cgroup) Stats() (*engine.Stats, error) {
	var s engine.Stats
	var err error
	read := func(ctrl, file string) uint64 {
		v, e := readUint(c.file(ctrl, file))
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	opt := func(ctrl, file string) uint64 {
		v, _ := readUint(c.file(ctrl, file))
		return v
	}
	cpu := readKeyed(c.file("cpu", "cpu.stat"))
	s.Memory.Stat = readKeyed(c.file("memory", "memory.stat"))
	if c.h.V2() {
		s.CPU.UsageNanos = cpu["usage_usec"] * 1000
		s.CPU.UserNanos, s.CPU.SystemNanos = cpu["user_usec"]*1000, cpu["system_usec"]*1000
		s.CPU.ThrottledNanos = cpu["throttled_usec"] * 1000
		s.Memory.Usage = read("memory", "memory.current")
		s.Memory.MaxUsage = opt("memory", "memory.peak")
		s.Memory.Limit = read("memory", "memory.max")
		if swap := opt("memory", "memory.swap.current"); swap > 0 {
			s.Memory.SwapUsage = s.Memory.Usage + swap
		}
	} else {
		s.CPU.UsageNanos = read("cpuacct", "cpuacct.usage")
		s.CPU.UserNanos, s.CPU.SystemNanos = opt("cpuacct", "cpuacct.usage_user"), opt("cpuacct", "cpuacct.usage_sys")
		s.CPU.ThrottledNanos = cpu["throttled_time"]
		s.Memory.Usage = read("memory", "memory.usage_in_bytes")
		s.Memory.MaxUsage = read("memory", "memory.max_usage_in_bytes")
		s.Memory.Limit = read("memory", "memory.limit_in_bytes")
		s.Memory.Failcnt = opt("memory", "memory.failcnt")
		s.Memory.SwapUsage = opt("memory", "memory.memsw.usage_in_bytes")
		s.Memory.KernelUsage = opt("memory", "memory.kmem.usage_in_bytes")
		s.IO = c.blkio()
	}
	s.CPU.Periods, s.CPU.ThrottledPeriods = cpu["nr_periods"], cpu["nr_throttled"]
	s.Pids.Current = read("pids", "pids.current")
	s.Pids.Limit = read("pids", "pids.max")
	if s.Memory.Limit >= 1<<62 { // cgroup v1's "no limit", a page-rounded 2^63-1
		s.Memory.Limit = 0
	}
	return &s, err
}

// blkio reads the first of the v1 blkio counters that has entries: the CFQ scheduler's, BFQ's, then
// the throttling layer's, which counts every device, as runc does.
func (c *Cgroup) blkio() engine.IOStats {
	for _, prefix := range []string{"blkio.", "blkio.bfq.", "blkio.throttle."} {
		bytes := readBlkio(c.file("blkio", prefix+"io_service_bytes_recursive"))
		if len(bytes) > 0 {
			return engine.IOStats{ServiceBytes: bytes, Serviced: readBlkio(c.file("blkio", prefix+"io_serviced_recursive"))}
		}
	}
	return engine.IOStats{}
}

// file is the path of the cgroup's file name in the hierarchy of controller; "", which no read
// finds, if no hierarchy has it.
func (c *Cgroup) file(controller, name string) string {
	if dir := c.path(controller); dir != "" {
		return filepath.Join(dir, name)
	}
	return ""
}

// readBlkio reads a blkio counter file: "MAJOR:MINOR Op value" lines and a "Total value" line,
// which is left out.
func readBlkio(path string) []engine.IOEntry {
	b, _ := os.ReadFile(path)
	var out []engine.IOEntry
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		maj, mnr, ok := strings.Cut(f[0], ":")
		e := engine.IOEntry{Op: f[1]}
		var err1, err2, err3 error
		e.Major, err1 = strconv.ParseUint(maj, 10, 64)
		e.Minor, err2 = strconv.ParseUint(mnr, 10, 64)
		e.Value, err3 = strconv.ParseUint(f[2], 10, 64)
		if ok && err1 == nil && err2 == nil && err3 == nil {
			out = append(out, e)
		}
	}
	return out
}

// readUint reads a cgroup file holding a number, or "max" (read as 0, no limit).
func readUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	v := strings.TrimSpace(string(b))
	if v == "max" {
		return 0, nil
	}
	return strconv.ParseUint(v, 10, 64)
}

// readKeyed reads a flat-keyed cgroup file, "key value" lines (cpu.stat, memory.stat); nil if it
// cannot be read.
func readKeyed(path string) map[string]uint64 {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]uint64{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), " "); ok {
			if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
				out[k] = n
			}
		}
	}
	return out
}
