package tasks

import (
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func attachCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "attach ID",
		Short: "Attach to a running task's stdio until it exits",
		Long: "Attach to the FIFOs a running task was created with, as `run -d` leaves them: relay stdin and\n" +
			"the output, and for a task with a terminal, put the local one in raw mode and forward its size.\n" +
			"corral exits with the task's exit status. SIGINT, SIGTERM and SIGHUP, or killing corral, detach\n" +
			"and leave the task running.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			stdio := commands.Stdio{In: cmd.InOrStdin(), Out: cmd.OutOrStdout(), Err: cmd.ErrOrStderr()}
			status, err := client.Attach(cmd.Context(), args[0], stdio)
			if err != nil {
				return err
			}
			if status != 0 {
				return &commands.ExitError{Status: int(status)}
			}
			return nil
		},
	}
}
