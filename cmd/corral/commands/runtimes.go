package commands

import (
	"context"
	"fmt"
	"strings"

	introspectionapi "github.com/containerd/containerd/api/services/introspection/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/api"
)

// Runtime is a runtime name corrald knows, as `runtimes --format json` prints it.
type Runtime struct {
	Name      string   `json:"name"`
	Family    string   `json:"family"`
	Path      string   `json:"path"`
	Args      []string `json:"args"`
	Source    string   `json:"source"`
	Installed bool     `json:"installed"`
	Default   bool     `json:"default"`
	Error     string   `json:"error,omitempty"`
}

// RuntimesCommand returns the runtimes command, listing the runtime names corrald knows.
func RuntimesCommand() *cobra.Command {
	var format Format
	cmd := &cobra.Command{
		Use:   "runtimes",
		Short: "List the runtimes corrald can run containers with",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			runtimes, err := client.Runtimes(cmd.Context())
			if err != nil {
				return err
			}
			if format == JSON {
				return PrintJSON(cmd.OutOrStdout(), runtimes)
			}
			w := NewTable(cmd.OutOrStdout(), "NAME\tFAMILY\tPATH\tSOURCE\tINSTALLED\tDEFAULT\tNOTE")
			for _, r := range runtimes {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%t\t%t\t%s\n", r.Name, r.Family, dash(r.Path), r.Source, r.Installed, r.Default, r.Error)
			}
			return w.Flush()
		},
	}
	AddFormatFlag(cmd, &format)
	return cmd
}

// Runtimes lists the runtime names corrald knows, from its introspection service.
func (c *Client) Runtimes(ctx context.Context) ([]Runtime, error) {
	resp, err := c.Introspection.Plugins(ctx, &introspectionapi.PluginsRequest{
		Filters: []string{"type==" + api.PluginType},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to list runtimes: %w", err)
	}
	runtimes := []Runtime{}
	for _, p := range resp.Plugins {
		if p.Type != api.PluginType {
			continue
		}
		e := p.Exports
		runtimes = append(runtimes, Runtime{
			Name: p.ID, Family: e[api.ExportFamily], Path: e[api.ExportPath],
			Args: strings.Fields(e[api.ExportArgs]), Source: e[api.ExportSource],
			Installed: e[api.ExportInstalled] == "true", Default: e[api.ExportDefault] == "true",
			Error: p.InitErr.GetMessage(),
		})
	}
	return runtimes, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
