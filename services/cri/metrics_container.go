package cri

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// procSamples adds a container's processes, the file descriptors and sockets they hold, and the
// soft limit of its init's open files, read in proc (/proc). A pid its task lists that is not in its
// init's cgroups (a runtime's own pid, as runsc's are) is counted but not read.
func procSamples(s *samples, proc string, init uint32, pids []uint32) {
	s.add("container_processes", uint64(len(pids)))
	own, _ := os.ReadFile(filepath.Join(proc, strconv.Itoa(int(init)), "cgroup"))
	var fds, sockets uint64
	for _, pid := range pids {
		dir := filepath.Join(proc, strconv.Itoa(int(pid)))
		if cg, err := os.ReadFile(filepath.Join(dir, "cgroup")); err != nil || !bytes.Equal(cg, own) {
			continue
		}
		entries, _ := os.ReadDir(filepath.Join(dir, "fd"))
		fds += uint64(len(entries))
		for _, e := range entries {
			if l, err := os.Readlink(filepath.Join(dir, "fd", e.Name())); err == nil && strings.HasPrefix(l, "socket:") {
				sockets++
			}
		}
	}
	s.add("container_file_descriptors", fds)
	s.add("container_sockets", sockets)
	if soft, ok := softLimit(filepath.Join(proc, strconv.Itoa(int(init)), "limits"), "Max open files"); ok {
		s.add("container_ulimits_soft", soft, "max_open_files")
	}
}

// softLimit reads the soft value of limit from a /proc/<pid>/limits file; none if it is unlimited.
func softLimit(path, limit string) (uint64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), limit); ok {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				return 0, false
			}
			v, err := strconv.ParseUint(fields[0], 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// fsSamples adds the container's use of the filesystem at root, which holds its writable layer:
// used bytes as the snapshotter counts them, the filesystem's size and inodes.
func fsSamples(s *samples, root string, used uint64) error {
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return err
	}
	var fi unix.Stat_t
	if err := unix.Stat(root, &fi); err != nil {
		return err
	}
	dev := blockDevice(uint64(unix.Major(fi.Dev)), uint64(unix.Minor(fi.Dev)))
	s.add("container_fs_usage_bytes", used, dev)
	s.add("container_fs_limit_bytes", st.Blocks*uint64(st.Bsize), dev)
	s.add("container_fs_inodes_total", st.Files, dev)
	s.add("container_fs_inodes_free", st.Ffree, dev)
	return nil
}

// specSamples adds the CPU and memory limits the container's spec sets; none for a limit unset (or
// -1, unlimited).
func specSamples(s *samples, r *specs.LinuxResources) {
	if r == nil {
		return
	}
	set := func(name string, v *int64) {
		if v != nil && *v > 0 {
			s.add(name, uint64(*v))
		}
	}
	setU := func(name string, v *uint64) {
		if v != nil && *v > 0 {
			s.add(name, *v)
		}
	}
	if cpu := r.CPU; cpu != nil {
		setU("container_spec_cpu_period", cpu.Period)
		set("container_spec_cpu_quota", cpu.Quota)
		setU("container_spec_cpu_shares", cpu.Shares)
	}
	if mem := r.Memory; mem != nil {
		set("container_spec_memory_limit_bytes", mem.Limit)
		set("container_spec_memory_reservation_limit_bytes", mem.Reservation)
		set("container_spec_memory_swap_limit_bytes", mem.Swap)
	}
}
