// Package run holds the corral run command: create a container from a rootfs directory, start it
// and, in the foreground, relay its stdio and signals until it exits.
package run

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/cmd/corral/commands"
	"github.com/corral-dev/corral/cmd/corral/commands/cio"
)

// options are the parsed arguments of run.
type options struct {
	id          string
	args        []string
	rootfs      string
	runtime     string
	env         []string
	cwd         string
	rm          bool
	detach      bool
	tty         bool
	interactive bool
	fifoDir     string
	logDriver   string
	logOpts     []string
	restart     string

	namespace string
	stdio     commands.Stdio // what a foreground container is attached to
}

// Command returns the run command.
func Command() *cobra.Command { return newCommand(execute) }

// newCommand parses run's arguments into options and hands them to fn.
func newCommand(fn func(*cobra.Command, options) error) *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "run [flags] --rootfs DIR ID [CMD [ARG...]]",
		Short: "Create and start a container, by default waiting for it and relaying its stdio",
		Long: "Create and start a container. In the foreground corral relays stdin, stdout and stderr until\n" +
			"they end, forwards SIGINT, SIGTERM and SIGHUP, and exits with the container's exit status. With\n" +
			"-t the container gets a terminal, and corral puts its own in raw mode and forwards its size.\n" +
			"Detached, the container's FIFOs stay in a directory under --fifo-dir for `tasks attach`; with -i\n" +
			"its stdin is one of them and stays open, without -i it is /dev/null. `containers rm` removes them.\n" +
			"Detached, its output is also written to a log that `corral logs` reads (--log-driver, --log-opt).\n" +
			"corrald applies --restart and --rm, also when corral is gone and across its own restarts:\n" +
			"--restart no|always|unless-stopped|on-failure[:N] restarts the task when it exits, with a back-off,\n" +
			"unless a user stopped it (`tasks stop`, `tasks kill` with TERM, INT or KILL, `rm -f`; \"always\"\n" +
			"restarts that too when corrald restarts); --rm removes the container once its task exited and no\n" +
			"client waits for it.",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("missing container ID")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.restart != "" && o.restart != "no" && (o.rm || !o.detach) {
				return errors.New("--restart needs --detach, and cannot be used with --rm")
			}
			o.id, o.args = args[0], args[1:]
			return fn(cmd, o)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false) // flags after ID belong to the container's command
	f.StringVar(&o.rootfs, "rootfs", "", "root filesystem `DIR` of the container (required)")
	f.StringVar(&o.runtime, "runtime", "", "runtime `NAME` (default: corrald's default runtime)")
	f.StringArrayVar(&o.env, "env", nil, "set an environment variable `K=V` (repeatable)")
	f.StringVar(&o.cwd, "cwd", "/", "working `DIR` inside the container")
	f.BoolVar(&o.rm, "rm", false, "delete the task and container when the container exits (corrald does, if corral is gone)")
	f.StringVar(&o.restart, "restart", "", "restart `POLICY` of a detached container: no, always, unless-stopped, on-failure[:N]")
	f.BoolVarP(&o.detach, "detach", "d", false, "start the container in the background")
	f.BoolVarP(&o.tty, "tty", "t", false, "give the container a terminal")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "keep stdin open: detached, give the container a stdin FIFO (the foreground always relays stdin)")
	f.StringVar(&o.fifoDir, "fifo-dir", cio.DefaultRoot(), "`DIR` to make the FIFO directories in, per namespace")
	f.StringVar(&o.logDriver, "log-driver", "json-file", "log of a detached container's output, read by `corral logs`: json-file, cri or none")
	f.StringArrayVar(&o.logOpts, "log-opt", nil, "log rotation: max-size=`SIZE` (e.g. 10m) or max-file=N (repeatable; defaults from corrald's config)")
	_ = cmd.MarkFlagRequired("rootfs")
	return cmd
}

// execute builds the spec, then runs the container; a nonzero exit status becomes an ExitError.
func execute(cmd *cobra.Command, o options) error {
	o.namespace = commands.Namespace(cmd)
	o.stdio = commands.Stdio{In: cmd.InOrStdin(), Out: cmd.OutOrStdout(), Err: cmd.ErrOrStderr()}
	spec, err := buildSpec(o, o.namespace)
	if err != nil {
		return err
	}
	if o.tty && !o.detach {
		if o.stdio.Console, err = commands.RawTerminal(o.stdio.In); err != nil {
			return err
		}
		if o.stdio.Console != nil {
			defer o.stdio.Console.Reset()
			spec.Process.ConsoleSize = commands.ConsoleSize(o.stdio.Console)
		}
	}
	value, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("failed to encode spec of container %s: %w", o.id, err)
	}
	client, err := commands.NewClient(cmd)
	if err != nil {
		return err
	}
	defer client.Close()
	status, err := run(cmd.Context(), client, o, &anypb.Any{TypeUrl: api.SpecTypeURL, Value: value})
	if err != nil {
		return err
	}
	if status != 0 {
		return &commands.ExitError{Status: int(status)}
	}
	return nil
}
