package tasks

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func waitCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "wait ID",
		Short: "Wait for a task to exit and print its exit status",
		Long: "Wait for a task to exit and print its exit status; a task that has already exited prints it at\n" +
			"once. A restart of corrald does not end the wait.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			status, err := client.Wait(cmd.Context(), args[0], "")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), status)
			return err
		},
	}
}
