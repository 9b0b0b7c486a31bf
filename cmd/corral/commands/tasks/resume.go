package tasks

import (
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func resumeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "resume ID",
		Short: "Thaw a paused task",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			if _, err := client.Tasks.Resume(cmd.Context(), &tasksapi.ResumeTaskRequest{ContainerID: args[0]}); err != nil {
				return err
			}
			return nil
		},
	}
}
