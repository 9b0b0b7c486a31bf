package commands

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	introspectionapi "github.com/containerd/containerd/api/services/introspection/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/services/version"
)

// Info describes corral, the corrald it talks to, its paths, and what it runs in the namespace.
type Info struct {
	Client struct {
		Version   string `json:"version"`
		Revision  string `json:"revision"`
		Address   string `json:"address"`
		Namespace string `json:"namespace"`
	} `json:"client"`
	Server struct {
		Version  string `json:"version"`
		Revision string `json:"revision"`
		UUID     string `json:"uuid"`
		// Config is the file corrald read its configuration from, "" for none.
		Config  string `json:"config"`
		Root    string `json:"root"`
		State   string `json:"state"`
		Address string `json:"address"`
	} `json:"server"`
	Runtimes   []Runtime `json:"runtimes"`
	Containers int       `json:"containers"`
	// Tasks counts the namespace's tasks by status, such as RUNNING.
	Tasks map[string]int `json:"tasks"`
}

// InfoCommand returns the info command, describing corral, corrald and what runs in the namespace.
func InfoCommand() *cobra.Command {
	var format Format
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Print the client's and corrald's versions and settings, the runtimes, and counts of containers and tasks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			info, err := client.Info(cmd.Context())
			if err != nil {
				return err
			}
			info.Client.Address, info.Client.Namespace = Address(cmd), Namespace(cmd)
			if format == JSON {
				return PrintJSON(cmd.OutOrStdout(), info)
			}
			return printInfo(cmd.OutOrStdout(), info)
		},
	}
	AddFormatFlag(cmd, &format)
	return cmd
}

// Info asks corrald for its version, its runtimes and the containers and tasks of the namespace.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	info := &Info{Tasks: map[string]int{}}
	info.Client.Version, info.Client.Revision = version.Version, version.Revision
	v, err := c.Version.Version(ctx, &emptypb.Empty{})
	if err != nil {
		return nil, fmt.Errorf("failed to get the version of corrald: %w", err)
	}
	info.Server.Version, info.Server.Revision = v.Version, v.Revision
	server, err := c.Introspection.Server(ctx, &emptypb.Empty{})
	if err != nil {
		return nil, fmt.Errorf("failed to get the identity of corrald: %w", err)
	}
	info.Server.UUID = server.UUID
	task, err := c.Introspection.Plugins(ctx, &introspectionapi.PluginsRequest{Filters: []string{"type==io.containerd.runtime.v2,id==task"}})
	if err != nil {
		return nil, fmt.Errorf("failed to get the paths of corrald: %w", err)
	}
	for _, p := range task.Plugins {
		e := p.Exports
		info.Server.Config, info.Server.Root, info.Server.State, info.Server.Address = e[api.ExportConfig], e[api.ExportRoot], e[api.ExportState], e[api.ExportAddress]
	}
	if info.Runtimes, err = c.Runtimes(ctx); err != nil {
		return nil, err
	}
	containers, err := c.Containers.List(ctx, &containersapi.ListContainersRequest{})
	if err != nil {
		return nil, fmt.Errorf("failed to list containers: %w", err)
	}
	info.Containers = len(containers.Containers)
	tasks, err := c.Tasks.List(ctx, &tasksapi.ListTasksRequest{})
	if err != nil {
		return nil, fmt.Errorf("failed to list tasks: %w", err)
	}
	for _, t := range tasks.Tasks {
		info.Tasks[t.Status.String()]++
	}
	return info, nil
}

// printInfo writes info as indented sections; runtimes that are not installed are left out.
func printInfo(w io.Writer, info *Info) error {
	var runtimes []string
	for _, r := range info.Runtimes {
		switch {
		case r.Default:
			runtimes = append(runtimes, r.Name+" (default)")
		case r.Installed && r.Error == "":
			runtimes = append(runtimes, r.Name)
		}
	}
	var tasks []string
	total := 0
	for _, status := range slices.Sorted(maps.Keys(info.Tasks)) {
		tasks = append(tasks, fmt.Sprintf("%d %s", info.Tasks[status], strings.ToLower(status)))
		total += info.Tasks[status]
	}
	_, err := fmt.Fprintf(w, `Client:
  Version:    %s
  Revision:   %s
  Address:    %s
  Namespace:  %s
Server:
  Version:    %s
  Revision:   %s
  UUID:       %s
  Config:     %s
  Root:       %s
  State:      %s
  Address:    %s
Runtimes:     %s
Containers:   %d
Tasks:        %d%s
`, info.Client.Version, info.Client.Revision, info.Client.Address, info.Client.Namespace,
		info.Server.Version, info.Server.Revision, info.Server.UUID,
		dash(info.Server.Config), info.Server.Root, info.Server.State, info.Server.Address,
		strings.Join(runtimes, ", "), info.Containers, total, parenthesized(strings.Join(tasks, ", ")))
	return err
}

func parenthesized(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
