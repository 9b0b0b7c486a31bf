package tasks

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func stopCommand() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "stop [--timeout DURATION] ID",
		Short: "Stop a task: SIGTERM, then SIGKILL if it has not exited after the timeout",
		Long: "Stop a task: SIGTERM, then SIGKILL if it has not exited after the timeout. Its container is marked\n" +
			"stopped by its user (label io.corral.restart.stopped), so that its restart policy leaves it stopped.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			_, err = client.Stop(cmd.Context(), args[0], timeout)
			return err
		},
	}
	cmd.Flags().DurationVarP(&timeout, "timeout", "t", commands.DefaultStopTimeout, "how long to wait after SIGTERM before sending SIGKILL")
	return cmd
}
