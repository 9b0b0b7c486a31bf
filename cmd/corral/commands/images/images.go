// Package images holds the corral images commands: ls, rm, import, export and inspect. They use
// containerd's Go client and its image libraries against corrald.
package images

import (
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// Command returns the images command group.
func Command() *cobra.Command {
	cmd := commands.Group(&cobra.Command{
		Use:     "images",
		Aliases: []string{"image", "i"},
		Short:   "Manage images",
	})
	cmd.AddCommand(lsCommand(), rmCommand(), importCommand(), exportCommand(), inspectCommand())
	return cmd
}
