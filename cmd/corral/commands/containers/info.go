package containers

import (
	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func infoCommand() *cobra.Command {
	var format commands.Format
	cmd := &cobra.Command{
		Use:   "info ID",
		Short: "Print a container, its spec included, as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			resp, err := client.Containers.Get(cmd.Context(), &containersapi.GetContainerRequest{ID: args[0]})
			if err != nil {
				return err
			}
			return commands.PrintJSON(cmd.OutOrStdout(), newDetail(resp.Container))
		},
	}
	commands.AddFormatFlag(cmd, &format) // JSON is the only output; the flag is accepted for symmetry.
	return cmd
}
