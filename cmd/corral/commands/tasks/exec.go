package tasks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/cmd/corral/commands"
	"github.com/corral-dev/corral/cmd/corral/commands/cio"
)

// execOptions are the parsed arguments of tasks exec.
type execOptions struct {
	id          string // the container
	execID      string
	args        []string
	env         []string
	cwd         string
	detach      bool
	tty         bool
	interactive bool
	fifoDir     string

	namespace string
	stdio     commands.Stdio // what a foreground exec is attached to
}

func execCommand() *cobra.Command { return newExecCommand(execute) }

// newExecCommand parses exec's arguments into execOptions and hands them to fn.
func newExecCommand(fn func(*cobra.Command, execOptions) error) *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:   "exec [flags] CONTAINER CMD [ARG...]",
		Short: "Run an additional process in a running task",
		Long: "Run an additional process in a running task. It inherits the container's process settings\n" +
			"(env, cwd, user, capabilities, rlimits), which --env and --cwd override. In the foreground corral\n" +
			"relays stdin, stdout and stderr until they end, forwards SIGINT, SIGTERM and SIGHUP, and exits\n" +
			"with the process's exit status. With -t the process gets a terminal, and corral puts its own in\n" +
			"raw mode and forwards its size.",
		Args: func(_ *cobra.Command, args []string) error {
			switch len(args) {
			case 0:
				return errors.New("missing container ID")
			case 1:
				return errors.New("missing command")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.detach && (o.tty || o.interactive) {
				return errors.New("--detach cannot be used with --tty or --interactive: nothing could attach to the exec")
			}
			o.id, o.args = args[0], args[1:]
			if o.execID == "" {
				o.execID = newExecID()
			}
			return fn(cmd, o)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false) // flags after CONTAINER belong to the command
	f.StringVar(&o.execID, "exec-id", "", "exec process `ID` (default: exec-<8 random hex digits>)")
	f.StringArrayVar(&o.env, "env", nil, "set an environment variable `K=V` (repeatable)")
	f.StringVar(&o.cwd, "cwd", "", "working `DIR` (default: the container's)")
	f.BoolVarP(&o.detach, "detach", "d", false, "start the process in the background, its stdio on /dev/null")
	f.BoolVarP(&o.tty, "tty", "t", false, "give the process a terminal")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "keep stdin open (the foreground always relays stdin)")
	f.StringVar(&o.fifoDir, "fifo-dir", cio.DefaultRoot(), "`DIR` to make the FIFO directory in, per namespace")
	return cmd
}

// newExecID returns "exec-" and 8 random hex digits.
func newExecID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "exec-" + hex.EncodeToString(b)
}

// execute runs the exec; a nonzero exit status becomes an ExitError.
func execute(cmd *cobra.Command, o execOptions) error {
	client, err := commands.NewClient(cmd)
	if err != nil {
		return err
	}
	defer client.Close()
	o.namespace = commands.Namespace(cmd)
	o.stdio = commands.Stdio{In: cmd.InOrStdin(), Out: cmd.OutOrStdout(), Err: cmd.ErrOrStderr()}
	if o.tty {
		if o.stdio.Console, err = commands.RawTerminal(o.stdio.In); err != nil {
			return err
		}
		if o.stdio.Console != nil {
			defer o.stdio.Console.Reset()
		}
	}
	status, err := runExec(cmd.Context(), client, o)
	if err != nil {
		return err
	}
	if status != 0 {
		return &commands.ExitError{Status: int(status)}
	}
	return nil
}

// runExec creates the exec process from its container's spec and starts it. Detached, it returns
// once started and leaves the exec for the task to keep. In the foreground it relays stdio and
// signals, deletes the exec once it exits and returns its exit status. An exec that fails to start
// is deleted either way.
func runExec(ctx context.Context, c *commands.Client, o execOptions) (status uint32, retErr error) {
	resp, err := c.Containers.Get(ctx, &containersapi.GetContainerRequest{ID: o.id})
	if err != nil {
		return 0, err
	}
	p, err := execProcess(o, resp.Container.GetSpec())
	if err != nil {
		return 0, err
	}
	if o.stdio.Console != nil {
		p.ConsoleSize = commands.ConsoleSize(o.stdio.Console)
	}
	value, err := json.Marshal(p)
	if err != nil {
		return 0, fmt.Errorf("failed to encode process of exec %s: %w", o.execID, err)
	}
	req := &tasksapi.ExecProcessRequest{ContainerID: o.id, ExecID: o.execID, Terminal: o.tty, Spec: &anypb.Any{TypeUrl: processTypeURL, Value: value}}
	var fifos *cio.FIFOs
	if !o.detach {
		paths, err := cio.NewPaths(o.fifoDir, o.namespace, o.id+"-"+o.execID, true, o.tty)
		if err != nil {
			return 0, fmt.Errorf("failed to create stdio of exec %s: %w", o.execID, err)
		}
		defer cio.Remove(paths)
		if fifos, err = cio.Open(ctx, paths, o.stdio.Out, o.stdio.Err); err != nil {
			return 0, fmt.Errorf("failed to create stdio of exec %s: %w", o.execID, err)
		}
		defer fifos.Close()
		req.Stdin, req.Stdout, req.Stderr = paths.Stdin, paths.Stdout, paths.Stderr
	}
	if _, err := c.Tasks.Exec(ctx, req); err != nil {
		return 0, err
	}
	start := func() error {
		if _, err := c.Tasks.Start(ctx, &tasksapi.StartRequest{ContainerID: o.id, ExecID: o.execID}); err != nil {
			return err
		}
		return nil
	}
	if o.detach {
		if err := start(); err != nil {
			return 0, errors.Join(err, deleteExec(ctx, c, o))
		}
		return 0, nil
	}
	defer func() { retErr = errors.Join(retErr, deleteExec(ctx, c, o)) }()
	return c.Attached(ctx, o.id, o.execID, fifos, o.stdio)
}

// deleteExec deletes the exec process, even when ctx is cancelled; one already gone is no error.
func deleteExec(ctx context.Context, c *commands.Client, o execOptions) error {
	req := &tasksapi.DeleteProcessRequest{ContainerID: o.id, ExecID: o.execID}
	if _, err := c.Tasks.DeleteProcess(context.WithoutCancel(ctx), req); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	return nil
}
