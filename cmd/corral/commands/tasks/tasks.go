// Package tasks holds the corral tasks commands: ls, start, kill, delete, ps, exec, pause and resume.
package tasks

import "github.com/spf13/cobra"

// Command returns the tasks command group.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "tasks",
		Aliases: []string{"t"},
		Short:   "Manage tasks, the running processes of containers",
	}
	cmd.AddCommand(lsCommand(), startCommand(), killCommand(), deleteCommand(), psCommand(),
		execCommand(), pauseCommand(), resumeCommand())
	return cmd
}
