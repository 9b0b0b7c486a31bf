package shim

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/corral-dev/corral/engine/lcr"
)

// oomWatch counts the OOM kills of one memory cgroup. On cgroup v2, inotify wakes it when the
// oom_kill counter of memory.events has grown. On v1, an eventfd registered in cgroup.event_control
// wakes it when the OOM killer is about to kill (before memory.oom_control's oom_kill counts it), and
// when the cgroup is removed: a wake while the cgroup is there is a kill, as containerd counts it.
// containerd's cgroups library does the same, but would bring D-Bus and eBPF into every keeper.
type oomWatch struct {
	counter string
	v1      bool
	wake    *os.File
	killed  func()

	mu   sync.Mutex
	seen uint64
}

// watchOOM watches the memory cgroup of process pid and calls killed, in order, for each OOM kill
// there, those before the watch began included.
func watchOOM(pid int, killed func()) (*oomWatch, error) {
	dir, v2, err := memoryCgroup(pid)
	if err != nil {
		return nil, fmt.Errorf("failed to find the memory cgroup of process %d: %w", pid, err)
	}
	return watchCgroupOOM(dir, v2, killed)
}

// watchCgroupOOM watches the memory cgroup dir, on the unified hierarchy if v2.
func watchCgroupOOM(dir string, v2 bool, killed func()) (_ *oomWatch, err error) {
	w := &oomWatch{killed: killed, v1: !v2}
	if v2 {
		w.counter = filepath.Join(dir, "memory.events")
		w.wake, err = inotifyWake(w.counter)
	} else {
		w.counter = filepath.Join(dir, "memory.oom_control")
		w.wake, err = eventfdWake(dir, w.counter)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to watch %s: %w", w.counter, err)
	}
	w.check(false)
	go w.run()
	return w, nil
}

func (w *oomWatch) run() {
	buf := make([]byte, 4096)
	for {
		if _, err := w.wake.Read(buf); err != nil || !w.check(w.v1) {
			return // stopped, or the cgroup is gone
		}
	}
}

// check calls killed if the counter has grown, or if a kill is announced; it returns false once the
// cgroup is gone.
func (w *oomWatch) check(announced bool) bool {
	b, err := os.ReadFile(w.counter)
	if err != nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	n := oomKills(b)
	if announced {
		n = max(n, w.seen+1)
	}
	if n > w.seen {
		w.seen = n
		w.killed()
	}
	return true
}

// stop checks the counter a last time, while the cgroup may still be there, and ends the watch.
func (w *oomWatch) stop() {
	w.check(false)
	w.wake.Close()
}

// kills is the number of OOM kills seen so far.
func (w *oomWatch) kills() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}

// oomKills reads the oom_kill line of memory.oom_control or memory.events.
func oomKills(b []byte) uint64 {
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "oom_kill "); ok {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}

// memoryCgroup is the directory of pid's memory cgroup, and whether it is on the unified hierarchy.
func memoryCgroup(pid int) (string, bool, error) {
	h, err := lcr.LoadHierarchies()
	if err != nil {
		return "", false, err
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", false, err
	}
	mnt, path, v2, ok := pickMemory(h, string(b))
	if !ok {
		return "", false, fmt.Errorf("no memory controller in /proc/%d/cgroup", pid)
	}
	return filepath.Join(mnt, path), v2, nil
}

// pickMemory finds the memory cgroup in a /proc/<pid>/cgroup text: its hierarchy's mount point and
// its path there.
func pickMemory(h *lcr.Hierarchies, cgroups string) (mnt, path string, v2, ok bool) {
	for _, l := range strings.Split(cgroups, "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		if h.V2() {
			if f[0] == "0" && f[1] == "" {
				return h.Unified, f[2], true, true
			}
			continue
		}
		if m, found := h.V1[f[1]]; found && slices.Contains(strings.Split(f[1], ","), "memory") {
			return m, f[2], false, true
		}
	}
	return "", "", false, false
}

// eventfdWake registers an eventfd for the OOM notifications of cgroup v1 dir, counter its
// memory.oom_control.
func eventfdWake(dir, counter string) (*os.File, error) {
	ctl, err := os.Open(counter)
	if err != nil {
		return nil, err
	}
	defer ctl.Close()
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.event_control"), []byte(fmt.Sprintf("%d %d", efd, ctl.Fd())), 0); err != nil {
		unix.Close(efd)
		return nil, err
	}
	return os.NewFile(uintptr(efd), "oom eventfd"), nil
}

// inotifyWake watches the changes of the cgroup v2 file counter.
func inotifyWake(counter string) (*os.File, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	if _, err := unix.InotifyAddWatch(fd, counter, unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "oom inotify"), nil
}
