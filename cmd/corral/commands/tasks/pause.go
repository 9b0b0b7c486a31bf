package tasks

import (
	"context"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func pauseCommand() *cobra.Command {
	return idCommand("pause", "Freeze every process of a running task", func(ctx context.Context, c *commands.Client, id string) error {
		_, err := c.Tasks.Pause(ctx, &tasksapi.PauseTaskRequest{ContainerID: id})
		return err
	})
}
