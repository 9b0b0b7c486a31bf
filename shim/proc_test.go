package shim

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestFirstChildIn(t *testing.T) {
	var cmds []*exec.Cmd
	for i := range 3 {
		c := exec.Command("sleep", "10")
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: i == 1} // only the second leads a session
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
		time.Sleep(20 * time.Millisecond) // distinct start times (clock ticks are 10 ms)
	}
	defer func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}()
	self := os.Getpid()
	p := func(i int) int { return cmds[i].Process.Pid }
	for _, tc := range []struct {
		among []int
		ok    func(int) bool
		want  int
	}{
		{[]int{p(2), p(1), p(0)}, nil, p(0)},
		{[]int{p(2), p(1)}, nil, p(1)},
		{[]int{self, 1}, nil, 0},
		{nil, nil, 0},
		{[]int{p(2), p(1), p(0)}, leadsSession, p(1)},
		{[]int{p(2), p(0)}, leadsSession, 0},
	} {
		if got := firstChildIn(self, tc.among, tc.ok); got != tc.want {
			t.Errorf("firstChildIn(self, %v) = %d, want %d", tc.among, got, tc.want)
		}
	}
	if startTime(p(0)) == 0 || startTime(p(0)) > startTime(p(2)) {
		t.Errorf("start times %d, %d", startTime(p(0)), startTime(p(2)))
	}
	if startTime(1<<30) != 0 {
		t.Error("start time of a missing process")
	}
}
