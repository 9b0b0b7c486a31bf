package lcr_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/corral-dev/corral/engine"
	"github.com/corral-dev/corral/engine/lcr"
)

// fakeTools writes stand-ins for the LXC tools into a directory: each logs its arguments to
// <dir>/calls and runs body, a shell script that sees them as "$@".
func fakeTools(t *testing.T, body string) (dir string) {
	t.Helper()
	dir = t.TempDir()
	for _, tool := range lcr.Tools {
		script := "#!/bin/sh\necho \"${0##*/} $*\" >>\"${0%/*}/calls\"\ntool=${0##*/}\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(dir, tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func calls(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "calls"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestToolArgs(t *testing.T) {
	dir := fakeTools(t, "exit 0")
	ctx := context.Background()
	logged := &lcr.LXC{Path: "/w/lxc", Dir: dir, LogFile: filepath.Join(dir, "lxc.log")}
	plain := &lcr.LXC{Path: "/w/lxc", Dir: dir}
	var out bytes.Buffer
	if _, err := logged.Execute(ctx, "c1", &lcr.ExecuteOpts{Args: []string{"sh", "-c", "exit 5"}, IO: lcr.IO{Stdout: &out}}); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Attach(ctx, "c1", &lcr.AttachOpts{Args: []string{"true"}, Env: []string{"A=1", "B= 2"}, UID: 7, GID: 8}); err != nil {
		t.Fatal(err)
	}
	if err := plain.Freeze(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := plain.Unfreeze(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := plain.CgroupSet(ctx, "c1", "memory.limit_in_bytes", "1M"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"lxc-execute -n c1 -P /w/lxc -q -o " + dir + "/lxc.log -l ERROR -- sh -c exit 5",
		"lxc-attach -n c1 -P /w/lxc --clear-env -v A=1 -v B= 2 -u 7 -g 8 -- true",
		"lxc-freeze -n c1 -P /w/lxc",
		"lxc-unfreeze -n c1 -P /w/lxc",
		"lxc-cgroup -n c1 -P /w/lxc memory.limit_in_bytes 1M",
	}
	if got := calls(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, o := range []any{&lcr.ExecuteOpts{}, &lcr.AttachOpts{}, &lcr.AttachOpts{Args: []string{"x"}, Env: []string{"NOEQUALS"}}} {
		var err error
		switch o := o.(type) {
		case *lcr.ExecuteOpts:
			_, err = plain.Execute(ctx, "c1", o)
		case *lcr.AttachOpts:
			_, err = plain.Attach(ctx, "c1", o)
		}
		if err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestExecuteStatus(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, body string
		status     int
		err        string
	}{
		{"exit code", "echo out; echo err >&2; exit 5", 5, ""},
		{"killed by a signal", "kill -TERM $$", 143, ""},
		{"another tool's error", `echo "lxc-attach c1 20260101 ERROR    x - y.c:z:1 - Unsupported config key" >>"$4/../lxc.log"; exit 1`, 1, ""},
		{"lxc error", `echo "lxc-execute c1 20260101 ERROR    conf - conf.c:setup:1 - Read-only file system - Failed to set x" >>"$4/../lxc.log"
			echo "lxc-execute c1 20260101 ERROR    start - start.c:spawn:2 - Failed to spawn container" >>"$4/../lxc.log"; exit 1`,
			1, "lxc-execute: Read-only file system - Failed to set x (exit status 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeTools(t, tc.body)
			if err := os.MkdirAll(filepath.Join(dir, "p"), 0o700); err != nil {
				t.Fatal(err)
			}
			// An error logged by an earlier call is not this call's.
			log := filepath.Join(dir, "lxc.log")
			if err := os.WriteFile(log, []byte("lxc-execute c1 20250101 ERROR    x - y.c:z:1 - an old error\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			l := &lcr.LXC{Path: filepath.Join(dir, "p"), Dir: dir, LogFile: log}
			var stdout, stderr bytes.Buffer
			started := make(chan int, 1)
			status, err := l.Execute(ctx, "c1", &lcr.ExecuteOpts{Args: []string{"x"}, IO: lcr.IO{Stdout: &stdout, Stderr: &stderr}, Started: started})
			if status != tc.status || (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
				t.Fatalf("Execute = %d, %v; want %d, %q", status, err, tc.status, tc.err)
			}
			var xerr *lcr.ExitError
			if err != nil && (!errors.As(err, &xerr) || xerr.Status != tc.status) {
				t.Errorf("error %v is not an *ExitError with status %d", err, tc.status)
			}
			if pid := <-started; pid <= 0 {
				t.Errorf("started pid %d", pid)
			}
			if tc.status == 5 && (stdout.String() != "out\n" || stderr.String() != "err\n") {
				t.Errorf("stdout %q stderr %q", &stdout, &stderr)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	dir := fakeTools(t, `case $tool in
	lxc-info) echo "c1 doesn't exist" >&2; exit 1 ;;
	lxc-freeze) echo "lxc-freeze: c1: ../src/lxc/tools/lxc_freeze.c: main: 87 Failed to freeze /w:c1" >&2; exit 1 ;;
	esac`)
	l := &lcr.LXC{Path: "/w", Dir: dir}
	_, err := l.Info(context.Background(), "c1")
	var xerr *lcr.ExitError
	if !errors.As(err, &xerr) || xerr.Tool != "lxc-info" || err.Error() != "lxc-info: c1 doesn't exist (exit status 1)" {
		t.Errorf("Info: %v", err)
	}
	if err := l.Freeze(context.Background(), "c1"); err == nil || err.Error() != "lxc-freeze: Failed to freeze /w:c1 (exit status 1)" {
		t.Errorf("Freeze: %v", err)
	}
	missing := &lcr.LXC{Path: "/w", Dir: t.TempDir()}
	if err := missing.Unfreeze(context.Background(), "c1"); err == nil || !strings.Contains(err.Error(), "failed to run lxc-unfreeze") {
		t.Errorf("Unfreeze without the tool: %v", err)
	}
}

func TestInfo(t *testing.T) {
	for _, tc := range []struct {
		out  string
		want *lcr.Info
	}{
		{"State:          RUNNING\nPID:            24487\n", &lcr.Info{State: engine.Running, Pid: 24487}},
		{"State:          FROZEN\nPID:            9\n", &lcr.Info{State: engine.Frozen, Pid: 9}},
		{"State:          STOPPED\n", &lcr.Info{State: engine.Stopped}},
		{"PID: x\nState: RUNNING\n", nil},
		{"garbage\n", nil},
	} {
		dir := fakeTools(t, "printf '"+strings.ReplaceAll(tc.out, "\n", `\n`)+"'")
		got, err := (&lcr.LXC{Path: "/w", Dir: dir}).Info(context.Background(), "c1")
		if tc.want == nil {
			if err == nil {
				t.Errorf("Info from %q = %+v, want an error", tc.out, got)
			}
			continue
		}
		if err != nil || *got != *tc.want {
			t.Errorf("Info from %q = %+v, %v; want %+v", tc.out, got, err, tc.want)
		}
	}
}

func TestCgroupGet(t *testing.T) {
	dir := fakeTools(t, `echo 9223372036854771712`)
	v, err := (&lcr.LXC{Path: "/w", Dir: dir}).CgroupGet(context.Background(), "c1", "memory.limit_in_bytes")
	if err != nil || v != "9223372036854771712" {
		t.Errorf("CgroupGet = %q, %v", v, err)
	}
	if got := calls(t, dir); got[0] != "lxc-cgroup -n c1 -P /w memory.limit_in_bytes" {
		t.Errorf("called %q", got[0])
	}
}
