package tasks

import (
	"context"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func deleteCommand() *cobra.Command {
	cmd := idCommand("delete", "Delete a stopped task", func(ctx context.Context, c *commands.Client, id string) error {
		_, err := c.Tasks.Delete(ctx, &tasksapi.DeleteTaskRequest{ContainerID: id})
		return err
	})
	cmd.Aliases = []string{"rm"}
	return cmd
}
