// Package images holds the corral images commands: pull, ls, rm, import, export and inspect. They
// use containerd's Go client and its image libraries against corrald's Content, Images, Leases,
// Snapshots and Diff services, as ctr and nerdctl do.
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
	cmd.AddCommand(pullCommand(), lsCommand(), rmCommand(), importCommand(), exportCommand(), inspectCommand())
	return cmd
}
