package tasks

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func deleteCommand() *cobra.Command {
	cmd := idCommand("delete", "Delete a stopped task and the FIFOs it was created with", func(ctx context.Context, c *commands.Client, id string) error {
		return c.DeleteTask(ctx, id)
	})
	cmd.Aliases = []string{"rm"}
	return cmd
}
