package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/shim/logs"
)

// LogsCommand returns the logs command, printing the log of a container that runs detached.
func LogsCommand() *cobra.Command {
	var (
		o          logs.ReadOptions
		since      string
		timestamps bool
	)
	cmd := &cobra.Command{
		Use:   "logs [-f] [--tail N] [--since T] [--timestamps] ID",
		Short: "Print a container's log: its stdout lines to stdout, its stderr lines to stderr",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.Since, err = parseSince(since, time.Now()); err != nil {
				return err
			}
			client, err := NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			err = client.printLog(ctx, args[0], o, timestamps, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if ctx.Err() != nil {
				return nil // interrupted
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Follow, "follow", "f", false, "keep printing new lines until the task exits")
	f.IntVar(&o.Tail, "tail", -1, "print only the last N lines; -1 prints all")
	f.StringVar(&since, "since", "", "print lines written since a time (RFC 3339) or for a duration back from now (10m)")
	f.BoolVarP(&timestamps, "timestamps", "t", false, "start each line with the time it was written")
	return cmd
}

// printLog prints the log of container id; when following, until its task has exited and the log
// is drained.
func (c *Client) printLog(ctx context.Context, id string, o logs.ReadOptions, timestamps bool, stdout, stderr io.Writer) error {
	resp, err := c.Containers.Get(ctx, &containersapi.GetContainerRequest{ID: id})
	if err != nil {
		return fmt.Errorf("failed to get container %s: %w", id, err)
	}
	path := resp.Container.Labels[api.LabelLogPath]
	if path == "" {
		return fmt.Errorf("container %s has no log: it was started attached or with logs disabled: %w", id, errdefs.ErrNotFound)
	}
	waitErr := make(chan error, 1)
	if o.Follow {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		var exited atomic.Bool
		go func() {
			_, err := c.Tasks.Wait(ctx, &tasksapi.WaitRequest{ContainerID: id})
			if err != nil && !errdefs.IsNotFound(err) { // NotFound: no task, so nothing more to come
				waitErr <- fmt.Errorf("failed to wait for task %s: %w", id, err)
				cancel()
			}
			exited.Store(true)
		}()
		o.Done = exited.Load
	}
	partial := map[logs.Stream]bool{} // the stream's last line printed has no end yet
	err = logs.Read(ctx, path, o, func(r logs.Record) error {
		w := stdout
		if r.Stream == logs.Stderr {
			w = stderr
		}
		line := r.Line
		if timestamps && !partial[r.Stream] {
			line = r.Time.Format(time.RFC3339Nano) + " " + line
		}
		partial[r.Stream] = !strings.HasSuffix(r.Line, "\n")
		_, err := io.WriteString(w, line)
		return err
	})
	select {
	case werr := <-waitErr:
		return werr
	default:
	}
	if err != nil {
		return fmt.Errorf("failed to read log of container %s: %w", id, err)
	}
	return nil
}

// parseSince parses --since: an RFC 3339 time, or a duration counted back from now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("invalid --since %q: want a time such as 2006-01-02T15:04:05Z or a duration such as 10m: %w", s, errdefs.ErrInvalidArgument)
}
