// Package tasks holds the corral tasks commands: ls, start, kill, delete, ps, exec, attach, pause,
// resume, wait, stop, update and stats.
package tasks

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// Command returns the tasks command group.
func Command() *cobra.Command {
	cmd := commands.Group(&cobra.Command{
		Use:     "tasks",
		Aliases: []string{"t"},
		Short:   "Manage tasks, the running processes of containers",
	})
	cmd.AddCommand(lsCommand(), startCommand(), killCommand(), deleteCommand(), psCommand(),
		execCommand(), attachCommand(), pauseCommand(), resumeCommand(), waitCommand(), stopCommand(),
		updateCommand(), statsCommand())
	return cmd
}

// idCommand is a verb that takes one task ID and makes one call with it.
func idCommand(use, short string, call func(ctx context.Context, c *commands.Client, id string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			return call(cmd.Context(), client, args[0])
		},
	}
}
