package tasks

import (
	"context"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func resumeCommand() *cobra.Command {
	return idCommand("resume", "Thaw a paused task", func(ctx context.Context, c *commands.Client, id string) error {
		_, err := c.Tasks.Resume(ctx, &tasksapi.ResumeTaskRequest{ContainerID: id})
		return err
	})
}
