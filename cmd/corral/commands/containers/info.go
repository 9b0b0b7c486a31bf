package containers

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func infoCommand() *cobra.Command {
	var format commands.Format
	cmd := &cobra.Command{
		Use:   "info [--format json|table] ID",
		Short: "Print a container: by default as JSON, its spec included; as a table, a summary",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			resp, err := client.Containers.Get(cmd.Context(), &containersapi.GetContainerRequest{ID: args[0]})
			if err != nil {
				return fmt.Errorf("failed to get container %s: %w", args[0], err)
			}
			if format == commands.Table {
				return printDetail(cmd.OutOrStdout(), resp.Container)
			}
			return commands.PrintJSON(cmd.OutOrStdout(), newDetail(resp.Container))
		},
	}
	commands.AddFormatFlag(cmd, &format)
	return cmd
}

// printDetail writes container c as a table of fields: its metadata, and its command and root from
// its spec.
func printDetail(w io.Writer, c *containersapi.Container) error {
	d := newDetail(c)
	var spec specs.Spec
	_ = json.Unmarshal(c.Spec.GetValue(), &spec) // a spec that is not OCI shows no command nor root
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(d.Labels)) {
		labels = append(labels, k+"="+d.Labels[k])
	}
	var command []string
	if spec.Process != nil {
		command = spec.Process.Args
	}
	var root string
	if spec.Root != nil {
		root = spec.Root.Path
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, row := range [][2]string{
		{"ID", d.ID},
		{"RUNTIME", d.Runtime},
		{"CREATED", d.CreatedAt.Format(time.RFC3339)},
		{"UPDATED", d.UpdatedAt.Format(time.RFC3339)},
		{"COMMAND", strings.Join(command, " ")},
		{"ROOT", root},
		{"LABELS", strings.Join(labels, ",")},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}
