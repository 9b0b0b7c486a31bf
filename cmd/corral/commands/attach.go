package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/containerd/console"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/cmd/corral/commands/cio"
)

// Stdio are the streams corral connects to a process, and Console the local terminal among them, in
// raw mode, when the process has a terminal and corral runs on one.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
	Console  console.Console
}

// RawTerminal puts the terminal that in is in raw mode and returns it, or nil when in is not a
// terminal. The caller resets it before exiting.
func RawTerminal(in io.Reader) (console.Console, error) {
	f, ok := in.(*os.File)
	if !ok {
		return nil, nil
	}
	con, err := console.ConsoleFromFile(f)
	if err != nil {
		return nil, nil
	}
	if err := con.SetRaw(); err != nil {
		return nil, fmt.Errorf("failed to put the terminal in raw mode: %w", err)
	}
	return con, nil
}

// ConsoleSize returns the size of terminal con as an OCI process's consoleSize, or nil if unknown.
func ConsoleSize(con console.Console) *specs.Box {
	size, err := con.Size()
	if err != nil {
		return nil
	}
	return &specs.Box{Height: uint(size.Height), Width: uint(size.Width)}
}

// Attached starts a created process (the task's init, or the exec execID) with Tasks.Start and stays
// with it: Wait is issued first, stdin is copied in and closed with CloseIO, SIGINT, SIGTERM and SIGHUP
// are forwarded with Kill, and the terminal's size is sent with ResizePty at start and on SIGWINCH.
// After the exit it reads the output to its end, unless the connection to corrald is lost. It returns
// the exit status.
func (c *Client) Attached(ctx context.Context, id, execID string, f *cio.FIFOs, s Stdio) (uint32, error) {
	return c.follow(ctx, id, execID, f, s, false)
}

// Attach connects s to the FIFOs of running task id and stays with it as Attached does, but owns
// nothing: it neither starts the task nor closes its stdin, and SIGINT, SIGTERM and SIGHUP detach
// instead of being forwarded, returning 128 and the signal number. A stopped task's exit status is
// returned at once.
func (c *Client) Attach(ctx context.Context, id string, s Stdio) (uint32, error) {
	resp, err := c.Tasks.Get(ctx, &tasksapi.GetRequest{ContainerID: id})
	if err != nil {
		return 0, err
	}
	p := resp.Process
	if p.Status == tasktypes.Status_STOPPED {
		return p.ExitStatus, nil
	}
	if p.Terminal && s.Console == nil {
		if s.Console, err = RawTerminal(s.In); err != nil {
			return 0, err
		}
		if s.Console != nil {
			defer s.Console.Reset()
		}
	}
	f, err := cio.Attach(cio.Paths{Stdin: p.Stdin, Stdout: p.Stdout, Stderr: p.Stderr}, s.Out, s.Err)
	if err != nil {
		return 0, fmt.Errorf("failed to attach to task %s: %w", id, err)
	}
	defer f.Close()
	return c.follow(ctx, id, "", f, s, true)
}

// follow is Attached, or with attach set, Attach once the FIFOs are open.
func (c *Client) follow(ctx context.Context, id, execID string, f *cio.FIFOs, s Stdio, attach bool) (uint32, error) {
	waitCtx, cancelWait := context.WithCancel(ctx)
	defer cancelWait()
	type exit struct {
		status uint32
		err    error
	}
	exitc := make(chan exit, 1)
	go func() {
		status, err := c.Wait(waitCtx, id, execID)
		exitc <- exit{status, err}
	}()
	sigc := make(chan os.Signal, 16)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGWINCH)
	defer signal.Stop(sigc)
	closeIO := func() {
		c.Tasks.CloseIO(ctx, &tasksapi.CloseIORequest{ContainerID: id, ExecID: execID, Stdin: true})
	}
	if attach {
		closeIO = nil
	} else if _, err := c.Tasks.Start(ctx, &tasksapi.StartRequest{ContainerID: id, ExecID: execID}); err != nil {
		return 0, err
	}
	c.resize(ctx, id, execID, s.Console)
	f.CopyStdin(s.In, closeIO)
	for {
		select {
		case sig := <-sigc:
			switch {
			case sig == syscall.SIGWINCH:
				c.resize(ctx, id, execID, s.Console)
			case attach:
				return 128 + uint32(sig.(syscall.Signal)), nil
			default:
				req := &tasksapi.KillRequest{ContainerID: id, ExecID: execID, Signal: uint32(sig.(syscall.Signal))}
				if _, err := c.Tasks.Kill(ctx, req); err != nil && !errdefs.IsNotFound(err) {
					fmt.Fprintf(s.Err, "corral: failed to forward %v to %s: %v\n", sig, processName(id, execID), err)
				}
			}
		case e := <-exitc:
			if e.err != nil {
				return 0, e.err
			}
			// The process has exited: read its output to the end. An attached client does not own
			// the FIFOs, and a writer that outlives the process (a shim v2's logger relays until the
			// task is deleted) may keep them open: it stops once no output came for attachQuiet.
			quiet := make(<-chan struct{})
			if attach {
				quiet = f.Quiet(attachQuiet)
			}
			select {
			case <-f.Done():
			case <-quiet:
			case <-c.lost(ctx):
			}
			return e.status, nil
		}
	}
}

// attachQuiet is how long an attached client goes on reading after the exit while output still comes.
const attachQuiet = 500 * time.Millisecond

// resize sends the size of the terminal con, if not nil, to the process's terminal. It fails quietly:
// the process may have exited.
func (c *Client) resize(ctx context.Context, id, execID string, con console.Console) {
	if con == nil {
		return
	}
	if size, err := con.Size(); err == nil {
		c.Tasks.ResizePty(ctx, &tasksapi.ResizePtyRequest{ContainerID: id, ExecID: execID, Width: uint32(size.Width), Height: uint32(size.Height)})
	}
}

func processName(id, execID string) string {
	if execID == "" {
		return "task " + id
	}
	return "exec " + execID + " of task " + id
}
