package lcr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"

	"github.com/corral-dev/corral/engine"
)

// IO are the standard streams of a container's process; nil is /dev/null.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Terminal says Stdin is a terminal: the tool runs in a session of its own with it as its
	// controlling terminal, so that LXC's terminal proxy hears of resizes (SIGWINCH).
	Terminal bool
}

// ExecuteOpts are the options of Execute.
type ExecuteOpts struct {
	IO
	// Args is the command, run by LXC's init (pid 1 of the container).
	Args []string
	// Started receives the pid of lxc-execute once it runs.
	Started chan<- int
	// PdeathSignal, if set, is sent to lxc-execute when its parent dies; the container then dies too,
	// as LXC kills its init when lxc-execute, its monitor, dies.
	PdeathSignal syscall.Signal
}

func (o *ExecuteOpts) args() ([]string, error) {
	if len(o.Args) == 0 {
		return nil, errors.New("lxc-execute needs a command")
	}
	return append([]string{"--"}, o.Args...), nil
}

// Execute runs the container name with lxc-execute, from its config under Path, and returns its
// exit status once it ends: the command's (128+n if signal n killed it), for stock lxc-execute
// returns it. If the status is not 0 and LXC logged an error to LogFile, as when the container
// cannot be set up, the error is an *ExitError carrying LXC's message, with the status.
func (l *LXC) Execute(ctx context.Context, name string, opts *ExecuteOpts) (int, error) {
	args, err := opts.args()
	if err != nil {
		return -1, err
	}
	return l.runContainer(ctx, "lxc-execute", name, args, opts.IO, opts.Started, "/", opts.PdeathSignal)
}

// AttachOpts are the options of Attach.
type AttachOpts struct {
	IO
	// Args is the command to run in the container.
	Args []string
	// Env is the process's whole environment (lxc-attach --clear-env, then -v for each).
	Env []string
	// UID and GID are the user to run as (-u, -g).
	UID, GID uint32
	// Dir is the working directory lxc-attach runs in. LXC changes into the same path inside the
	// container, which is how stock lxc-attach chooses the process's working directory.
	Dir string
	// Started receives the pid of lxc-attach once it runs.
	Started chan<- int
}

func (o *AttachOpts) args() ([]string, error) {
	if len(o.Args) == 0 {
		return nil, errors.New("lxc-attach needs a command")
	}
	args := []string{"--clear-env"}
	for _, e := range o.Env {
		if !strings.Contains(e, "=") {
			return nil, fmt.Errorf("environment variable %q has no '='", e)
		}
		args = append(args, "-v", e)
	}
	args = append(args, "-u", strconv.FormatUint(uint64(o.UID), 10), "-g", strconv.FormatUint(uint64(o.GID), 10), "--")
	return append(args, o.Args...), nil
}

// Attach runs a command in the running container name with lxc-attach and returns its exit status
// (128+n if signal n killed it), as lxc-attach returns it.
func (l *LXC) Attach(ctx context.Context, name string, opts *AttachOpts) (int, error) {
	args, err := opts.args()
	if err != nil {
		return -1, err
	}
	dir := opts.Dir
	if dir == "" {
		dir = "/"
	}
	return l.runContainer(ctx, "lxc-attach", name, args, opts.IO, opts.Started, dir, 0)
}

// runContainer runs a tool whose stdio are the container process's, so LXC's errors can only be
// read from LogFile.
func (l *LXC) runContainer(ctx context.Context, tool, name string, args []string, stdio IO, started chan<- int, dir string, pdeath syscall.Signal) (int, error) {
	cmd := l.command(ctx, tool, name, args)
	cmd.Dir = dir
	cmd.SysProcAttr.Pdeathsig = pdeath
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.Stdin, stdio.Stdout, stdio.Stderr
	if stdio.Terminal {
		// A session leader leads its own process group too.
		cmd.SysProcAttr.Setpgid, cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = false, true, true, 0
	}
	m := l.Monitor
	if m == nil {
		m = execMonitor{}
	}
	from := logSize(l.LogFile)
	ec, err := m.Start(cmd)
	if err != nil {
		return -1, fmt.Errorf("failed to start %s: %w", tool, err)
	}
	if started != nil {
		started <- cmd.Process.Pid
	}
	status, err := m.Wait(cmd, ec)
	if err != nil {
		return -1, fmt.Errorf("failed to wait for %s: %w", tool, err)
	}
	if msg := l.logError(from, tool); status != 0 && msg != "" {
		return status, &ExitError{Tool: tool, Status: status, Message: msg}
	}
	return status, nil
}

// Info is what lxc-info reports of a container.
type Info struct {
	State engine.State
	// Pid is the host pid of the container's init; 0 when it does not run.
	Pid int
}

// Info runs lxc-info for the container's state and init pid.
func (l *LXC) Info(ctx context.Context, name string) (*Info, error) {
	out, err := l.run(ctx, "lxc-info", name, "-s", "-p", "-H")
	if err != nil {
		return nil, err
	}
	return parseInfo(string(out))
}

// parseInfo reads `lxc-info -s -p -H`: "State: RUNNING" and, if it runs, "PID: 42".
func parseInfo(out string) (*Info, error) {
	var i Info
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch v = strings.TrimSpace(v); strings.TrimSpace(k) {
		case "State":
			i.State = engine.State(v)
		case "PID":
			pid, err := strconv.Atoi(v)
			if err != nil || pid <= 0 {
				return nil, fmt.Errorf("lxc-info printed the pid %q", v)
			}
			i.Pid = pid
		}
	}
	if i.State == "" {
		return nil, fmt.Errorf("lxc-info printed no state: %q", out)
	}
	return &i, nil
}

// Freeze runs lxc-freeze: every process of the container stops until Unfreeze.
func (l *LXC) Freeze(ctx context.Context, name string) error {
	_, err := l.run(ctx, "lxc-freeze", name)
	return err
}

// Unfreeze runs lxc-unfreeze.
func (l *LXC) Unfreeze(ctx context.Context, name string) error {
	_, err := l.run(ctx, "lxc-unfreeze", name)
	return err
}

// CgroupGet runs lxc-cgroup to read a cgroup file of the container, such as memory.limit_in_bytes.
func (l *LXC) CgroupGet(ctx context.Context, name, file string) (string, error) {
	out, err := l.run(ctx, "lxc-cgroup", name, file)
	return strings.TrimSpace(string(out)), err
}

// CgroupSet runs lxc-cgroup to write value to a cgroup file of the container.
func (l *LXC) CgroupSet(ctx context.Context, name, file, value string) error {
	_, err := l.run(ctx, "lxc-cgroup", name, file, value)
	return err
}
