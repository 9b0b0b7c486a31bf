package tasks

import (
	"syscall"
	"testing"
)

func TestParseSignal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want syscall.Signal
		ok   bool
	}{
		{"KILL", syscall.SIGKILL, true},
		{"SIGKILL", syscall.SIGKILL, true},
		{"term", syscall.SIGTERM, true},
		{"sigHup", syscall.SIGHUP, true},
		{"9", syscall.SIGKILL, true},
		{"15", syscall.SIGTERM, true},
		{"64", syscall.Signal(64), true},
		{"0", 0, false},
		{"65", 0, false},
		{"-1", 0, false},
		{"", 0, false},
		{"SIG", 0, false},
		{"FOO", 0, false},
	} {
		got, err := ParseSignal(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
