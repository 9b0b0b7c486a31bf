// Package lcr is the lcr engine: stock LXC driven through its command-line tools, without cgo. It
// holds the tool driver, in go-runc's shape (LXC has one method per tool invocation, XOpts structs
// build the arguments), the OCI spec → LXC config translation (specconv*.go), the container's
// cgroups (cgroup.go), and the loading of the engine at corrald start (load.go).
package lcr

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// LXC runs the LXC tools for the containers of one lxcpath. A container is named by its LXC name,
// which is also the name of its directory under Path, holding its config.
type LXC struct {
	// Path is the lxcpath (-P).
	Path string
	// Dir is the directory of the lxc-* tools; empty means $PATH.
	Dir string
	// LogFile receives LXC's log (-o) at LogLevel (-l, ERROR if empty). Without it, LXC logs to
	// stderr, which the tools that do not run a container capture for their errors.
	LogFile  string
	LogLevel string
	// Monitor starts and waits for the tools; nil runs them with os/exec. A process that reaps every
	// child itself (corral-shim, a child subreaper) passes its reaper.
	Monitor Monitor
}

// Monitor starts a command and waits for its exit, like go-runc's ProcessMonitor.
type Monitor interface {
	Start(*exec.Cmd) (chan Exit, error)
	Wait(*exec.Cmd, chan Exit) (int, error)
}

// Exit is a process's pid and exit status (128+n if signal n killed it).
type Exit struct {
	Pid, Status int
}

// ExitError is a tool that failed: its name, status, and LXC's own error line when there is one.
type ExitError struct {
	Tool    string
	Status  int
	Message string
}

// Error is the tool's name, LXC's message and the status.
func (e *ExitError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("%s: %s (exit status %d)", e.Tool, e.Message, e.Status)
	}
	return fmt.Sprintf("%s exited with status %d", e.Tool, e.Status)
}

// command builds the invocation of tool for the container name with args after the common options.
func (l *LXC) command(ctx context.Context, tool, name string, args []string) *exec.Cmd {
	bin := tool
	if l.Dir != "" {
		bin = filepath.Join(l.Dir, tool)
	}
	cmd := exec.CommandContext(ctx, bin, append(l.args(name), args...)...)
	cmd.Env = filterEnv(os.Environ())
	// lxc-execute "tries to die with the same signal the task did" with kill(0, sig): keep every tool
	// in a process group of its own so the signal never reaches its caller.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	return cmd
}

// args are the options every tool takes: the container, its lxcpath, and where LXC logs.
func (l *LXC) args(name string) []string {
	args := []string{"-n", name, "-P", l.Path}
	if l.LogFile != "" {
		level := l.LogLevel
		if level == "" {
			level = "ERROR"
		}
		args = append(args, "-q", "-o", l.LogFile, "-l", level)
	}
	return args
}

// filterEnv drops NOTIFY_SOCKET: LXC would otherwise notify systemd for the container.
func filterEnv(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, "NOTIFY_SOCKET=") {
			out = append(out, e)
		}
	}
	return out
}

// run runs a tool to completion and returns its stdout; a failure is an *ExitError with LXC's error.
func (l *LXC) run(ctx context.Context, tool, name string, args ...string) ([]byte, error) {
	cmd := l.command(ctx, tool, name, args)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	from := logSize(l.LogFile)
	status, err := l.wait(cmd)
	if err != nil {
		return nil, fmt.Errorf("failed to run %s: %w", tool, err)
	}
	if status != 0 {
		msg := l.logError(from, tool)
		if msg == "" {
			msg = stderrLine(stderr.String())
		}
		return nil, &ExitError{Tool: tool, Status: status, Message: msg}
	}
	return stdout.Bytes(), nil
}

// wait starts cmd through the Monitor and waits for it.
func (l *LXC) wait(cmd *exec.Cmd) (int, error) {
	m := l.Monitor
	if m == nil {
		m = execMonitor{}
	}
	ec, err := m.Start(cmd)
	if err != nil {
		return -1, err
	}
	return m.Wait(cmd, ec)
}

// logError returns the first error tool logged to LogFile after byte offset from: the cause, which
// LXC logs before the errors of the steps that fail because of it. Lines of other tools are skipped:
// a running lxc-execute also logs there, as LXC's monitor, when it answers another tool.
func (l *LXC) logError(from int64, tool string) string {
	if l.LogFile == "" {
		return ""
	}
	f, err := os.Open(l.LogFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return ""
	}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if msg, ok := logMessage(s.Text()); ok && strings.HasPrefix(s.Text(), tool+" ") {
			return msg
		}
	}
	return ""
}

// logMessage extracts the message of an LXC log line at level ERROR or worse:
// "<tool> <name> <time> ERROR    <category> - <file>:<func>:<line> - <message>".
func logMessage(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || (f[3] != "ERROR" && f[3] != "CRIT" && f[3] != "ALERT" && f[3] != "FATAL") {
		return "", false
	}
	parts := strings.SplitN(line, " - ", 3)
	if len(parts) < 3 {
		return "", false
	}
	return strings.TrimSpace(parts[2]), true
}

// stderrLine is the first line a tool printed on stderr, without the location LXC prefixes:
// "<tool>: <name>: <file>: <func>: <line> <message>".
func stderrLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if f := strings.SplitN(line, ": ", 5); len(f) == 5 {
		if _, msg, ok := strings.Cut(f[4], " "); ok {
			return msg
		}
	}
	return line
}

// logSize is the current size of the log, to read what a call adds to it.
func logSize(path string) int64 {
	if path == "" {
		return 0
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// execMonitor runs commands with os/exec.
type execMonitor struct{}

func (execMonitor) Start(c *exec.Cmd) (chan Exit, error) {
	if err := c.Start(); err != nil {
		return nil, err
	}
	return make(chan Exit, 1), nil
}

func (execMonitor) Wait(c *exec.Cmd, _ chan Exit) (int, error) {
	err := c.Wait()
	if c.ProcessState == nil {
		return -1, err
	}
	return ExitStatus(c.ProcessState.Sys().(syscall.WaitStatus)), nil
}

// ExitStatus is a wait status as a shell reports it: the exit code, or 128+n for signal n.
func ExitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
