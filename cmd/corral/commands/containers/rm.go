package containers

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// RmCommand returns the rm command: `containers rm`, also `corral rm`.
func RmCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [-f] ID...",
		Aliases: []string{"delete", "del"},
		Short:   "Delete containers, with their stopped tasks and the FIFOs those were created with",
		Long: "Delete containers, with their stopped tasks and the FIFOs those were created with. With -f, a\n" +
			"running or paused task is killed with SIGKILL and waited for first.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			failed := false
			for _, id := range args {
				if err := client.Remove(cmd.Context(), id, force); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "corral: %v\n", err)
					failed = true
				}
			}
			if failed {
				return &commands.ExitError{Status: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill a running or paused task first")
	return cmd
}
