package containers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func lsCommand() *cobra.Command {
	var format commands.Format
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List containers",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			resp, err := client.Containers.List(cmd.Context(), &containersapi.ListContainersRequest{})
			if err != nil {
				return err
			}
			list := []summary{}
			for _, c := range resp.Containers {
				list = append(list, newSummary(c))
			}
			slices.SortFunc(list, func(a, b summary) int { return strings.Compare(a.ID, b.ID) })
			if format == commands.JSON {
				return commands.PrintJSON(cmd.OutOrStdout(), list)
			}
			w := commands.NewTable(cmd.OutOrStdout(), "CONTAINER\tRUNTIME\tCREATED")
			for _, c := range list {
				fmt.Fprintf(w, "%s\t%s\t%s\n", c.ID, c.Runtime, c.CreatedAt.Format(time.RFC3339))
			}
			return w.Flush()
		},
	}
	commands.AddFormatFlag(cmd, &format)
	return cmd
}
