// Package run holds the corral run command: create a container from an image or a rootfs directory,
// start it and, in the foreground, relay its stdio and signals until it exits.
package run

import (
	"encoding/json"
	"errors"
	"fmt"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/cmd/corral/commands"
	"github.com/corral-dev/corral/cmd/corral/commands/cio"
)

// options are the parsed arguments of run.
type options struct {
	image       string
	id          string
	args        []string
	rootfs      string
	snapshotter string
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
	mounts      []string
	volumes     []string
	user        string
	hostname    string
	readOnly    bool
	labels      []string
	envFiles    []string
	memory      string
	cpus        float64
	pidsLimit   int64

	namespace string
	stdio     commands.Stdio // what a foreground container is attached to
}

// Command returns the run command.
func Command() *cobra.Command { return newCommand(execute) }

// newCommand parses run's arguments into options and hands them to fn.
func newCommand(fn func(*cobra.Command, options) error) *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "run [flags] IMAGE ID [CMD [ARG...]] | run [flags] --rootfs DIR ID [CMD [ARG...]]",
		Short: "Create and start a container, by default waiting for it and relaying its stdio",
		Long: "Create and start a container from an image of the store (`corral images pull` or `import` it first), or\n" +
			"from a root filesystem directory with --rootfs. An image's container gets a snapshot of the image,\n" +
			"removed with the container, and runs the image's entrypoint with its cmd, or with CMD [ARG...] in\n" +
			"its place, with the image's environment, working directory and user; --env, --env-file, --cwd and\n" +
			"--user override them. `tasks stop` sends the image's stop signal first.\n\n" +
			"In the foreground corral relays stdin, stdout and stderr until\n" +
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
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case cmd.Flags().Changed("rootfs") && len(args) == 0:
				return errors.New("missing container ID")
			case !cmd.Flags().Changed("rootfs") && len(args) < 2:
				return errors.New("missing IMAGE and container ID (or --rootfs DIR and ID)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.restart != "" && o.restart != "no" && (o.rm || !o.detach) {
				return errors.New("--restart needs --detach, and cannot be used with --rm")
			}
			if !cmd.Flags().Changed("rootfs") {
				o.image, args = args[0], args[1:]
			} else if o.snapshotter != "" {
				return errors.New("--snapshotter is for an image; --rootfs takes a directory")
			}
			o.id, o.args = args[0], args[1:]
			return fn(cmd, o)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false) // flags after ID belong to the container's command
	f.StringVar(&o.rootfs, "rootfs", "", "root filesystem `DIR` of the container, in place of an IMAGE")
	f.StringVar(&o.snapshotter, "snapshotter", "", "snapshotter `NAME` of the image's snapshot (default: overlayfs if corrald has it, else native)")
	f.StringVar(&o.runtime, "runtime", "", "runtime `NAME` (default: corrald's default runtime)")
	f.StringArrayVar(&o.env, "env", nil, "set an environment variable `K=V` (repeatable)")
	f.StringArrayVar(&o.envFiles, "env-file", nil, "read environment variables from `FILE`: KEY=VALUE lines, # comments, a bare KEY takes corral's value (repeatable)")
	f.StringVar(&o.cwd, "cwd", "", "working `DIR` inside the container (default: the image's, or /)")
	f.StringVarP(&o.user, "user", "u", "", "`USER` of the process: UID[:GID] or NAME[:GROUP], names from the container's /etc/passwd and /etc/group")
	f.StringVar(&o.hostname, "hostname", "", "`NAME` of the container's host (default: its ID)")
	f.BoolVar(&o.readOnly, "read-only", false, "mount the container's root filesystem read-only")
	f.StringArrayVar(&o.mounts, "mount", nil, "mount `SPEC`: type=bind,src=PATH,dst=PATH[,ro] or type=tmpfs,dst=PATH[,tmpfs-size=SIZE] (repeatable)")
	f.StringArrayVarP(&o.volumes, "volume", "v", nil, "bind-mount host path `SRC:DST[:ro|rw]` (repeatable)")
	f.StringArrayVar(&o.labels, "label", nil, "set a container label `K=V` (repeatable)")
	f.StringVarP(&o.memory, "memory", "m", "", "memory limit `SIZE`: bytes, or with a k, m or g suffix (powers of 1024)")
	f.Float64Var(&o.cpus, "cpus", 0, "`N` CPUs the container may use, such as 1.5 (a CFS quota)")
	f.Int64Var(&o.pidsLimit, "pids-limit", 0, "at most `N` processes and threads in the container")
	f.BoolVar(&o.rm, "rm", false, "delete the task and container when the container exits (corrald does, if corral is gone)")
	f.StringVar(&o.restart, "restart", "", "restart `POLICY` of a detached container: no, always, unless-stopped, on-failure[:N]")
	f.BoolVarP(&o.detach, "detach", "d", false, "start the container in the background")
	f.BoolVarP(&o.tty, "tty", "t", false, "give the container a terminal")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "keep stdin open: detached, give the container a stdin FIFO (the foreground always relays stdin)")
	f.StringVar(&o.fifoDir, "fifo-dir", cio.DefaultRoot(), "`DIR` to make the FIFO directories in, per namespace")
	f.StringVar(&o.logDriver, "log-driver", "json-file", "log of a detached container's output, read by `corral logs`: json-file, cri or none")
	f.StringArrayVar(&o.logOpts, "log-opt", nil, "log rotation: max-size=`SIZE` (e.g. 10m) or max-file=N (repeatable; defaults from corrald's config)")
	return cmd
}

// execute checks the flags, prepares an image's snapshot, builds the spec, then runs the container;
// a nonzero exit status becomes an ExitError.
func execute(cmd *cobra.Command, o options) (retErr error) {
	ctx := cmd.Context()
	o.namespace = commands.Namespace(cmd)
	o.stdio = commands.Stdio{In: cmd.InOrStdin(), Out: cmd.OutOrStdout(), Err: cmd.ErrOrStderr()}
	f, err := parseFlags(o)
	if err != nil {
		return err
	}
	client, err := commands.NewClient(cmd)
	if err != nil {
		return err
	}
	defer client.Close()
	var snap *snapshot
	if o.image != "" {
		cc, err := commands.ContainerdClient(cmd)
		if err != nil {
			return err
		}
		defer cc.Close()
		if snap, err = prepareSnapshot(ctx, cc, o.image, o.snapshotter, o.id); err != nil {
			return err
		}
		defer func() { retErr = errors.Join(retErr, snap.release(ctx, false)) }()
	}
	spec, err := buildSpec(ctx, o, f, snap)
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
	container := &containersapi.Container{ID: o.id, Runtime: &containersapi.Container_Runtime{Name: o.runtime},
		Spec: &anypb.Any{TypeUrl: api.SpecTypeURL, Value: value}, Labels: f.labels}
	if snap != nil {
		container.Image, container.Snapshotter, container.SnapshotKey = snap.record.Image, snap.record.Snapshotter, snap.record.SnapshotKey
		for k, v := range snap.record.Labels {
			container.Labels[k] = v
		}
	}
	status, err := run(ctx, client, o, container, snap)
	if err != nil {
		return err
	}
	if status != 0 {
		return &commands.ExitError{Status: int(status)}
	}
	return nil
}
