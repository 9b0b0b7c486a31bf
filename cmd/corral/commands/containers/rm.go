package containers

import (
	"fmt"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
	"github.com/corral-dev/corral/cmd/corral/commands/cio"
)

func rmCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "rm ID...",
		Aliases: []string{"delete", "del"},
		Short:   "Delete containers, with their stopped tasks and the FIFOs those were created with",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			failed := false
			for _, id := range args {
				fifos := client.TaskFIFOs(cmd.Context(), id)
				if _, err := client.Containers.Delete(cmd.Context(), &containersapi.DeleteContainerRequest{ID: id}); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "corral: %v\n", err)
					failed = true
					continue
				}
				cio.Remove(fifos)
			}
			if failed {
				return &commands.ExitError{Status: 1}
			}
			return nil
		},
	}
}
