package tasks

import (
	"context"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func startCommand() *cobra.Command {
	return idCommand("start", "Start a created task, detached", func(ctx context.Context, c *commands.Client, id string) error {
		_, err := c.Tasks.Start(ctx, &tasksapi.StartRequest{ContainerID: id})
		return err
	})
}
