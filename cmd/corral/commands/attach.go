package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/cmd/corral/commands/cio"
)

// DrainTimeout bounds how long corral waits for a process's output after it exits.
const DrainTimeout = 2 * time.Second

// Attached starts a created process (the task's init, or the exec execID) with Tasks.Start and stays
// with it: Wait is issued first, stdin is copied in and closed with CloseIO, SIGINT, SIGTERM and SIGHUP
// are forwarded with Kill, and the output is drained after the exit. It returns the exit status.
func (c *Client) Attached(ctx context.Context, id, execID string, fifos *cio.FIFOs, stdin io.Reader, stderr io.Writer) (uint32, error) {
	waitCtx, cancelWait := context.WithCancel(ctx)
	defer cancelWait()
	type exit struct {
		resp *tasksapi.WaitResponse
		err  error
	}
	exitc := make(chan exit, 1)
	go func() {
		resp, err := c.Tasks.Wait(waitCtx, &tasksapi.WaitRequest{ContainerID: id, ExecID: execID})
		exitc <- exit{resp, err}
	}()
	sigc := make(chan os.Signal, 16)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigc)
	if _, err := c.Tasks.Start(ctx, &tasksapi.StartRequest{ContainerID: id, ExecID: execID}); err != nil {
		return 0, err
	}
	fifos.CopyStdin(stdin, func() {
		c.Tasks.CloseIO(ctx, &tasksapi.CloseIORequest{ContainerID: id, ExecID: execID, Stdin: true})
	})
	for {
		select {
		case s := <-sigc:
			req := &tasksapi.KillRequest{ContainerID: id, ExecID: execID, Signal: uint32(s.(syscall.Signal))}
			if _, err := c.Tasks.Kill(ctx, req); err != nil && !errdefs.IsNotFound(err) {
				fmt.Fprintf(stderr, "corral: failed to forward %v to %s: %v\n", s, processName(id, execID), err)
			}
		case e := <-exitc:
			if e.err != nil {
				return 0, e.err
			}
			fifos.Drain(DrainTimeout)
			return e.resp.ExitStatus, nil
		}
	}
}

func processName(id, execID string) string {
	if execID == "" {
		return "task " + id
	}
	return "exec " + execID + " of task " + id
}
