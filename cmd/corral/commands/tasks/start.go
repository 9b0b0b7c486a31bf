package tasks

import (
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func startCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "start ID",
		Short: "Start a created task, detached",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			if _, err := client.Tasks.Start(cmd.Context(), &tasksapi.StartRequest{ContainerID: args[0]}); err != nil {
				return err
			}
			return nil
		},
	}
}
