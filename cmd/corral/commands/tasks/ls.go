package tasks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/cmd/corral/commands"
)

// task is a task as `tasks ls --format json` prints it.
type task struct {
	ID         string `json:"id"`
	Pid        uint32 `json:"pid"`
	Status     string `json:"status"`
	ExitStatus uint32 `json:"exit_status"`
	// Restarts is how often corrald restarted it by its restart policy.
	Restarts int `json:"restarts"`
}

func lsCommand() *cobra.Command {
	var format commands.Format
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List tasks, with how often corrald restarted each by its restart policy",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			resp, err := client.Tasks.List(cmd.Context(), &tasksapi.ListTasksRequest{})
			if err != nil {
				return err
			}
			cs, err := client.Containers.List(cmd.Context(), &containersapi.ListContainersRequest{})
			if err != nil {
				return err
			}
			restarts := map[string]int{}
			for _, c := range cs.Containers {
				restarts[c.ID], _ = strconv.Atoi(c.Labels[api.LabelRestartCount])
			}
			list := []task{}
			for _, p := range resp.Tasks {
				list = append(list, task{ID: p.ContainerID, Pid: p.Pid, Status: p.Status.String(), ExitStatus: p.ExitStatus,
					Restarts: restarts[p.ContainerID]})
			}
			slices.SortFunc(list, func(a, b task) int { return strings.Compare(a.ID, b.ID) })
			if format == commands.JSON {
				return commands.PrintJSON(cmd.OutOrStdout(), list)
			}
			w := commands.NewTable(cmd.OutOrStdout(), "TASK\tPID\tSTATUS\tRESTARTS")
			for _, t := range list {
				fmt.Fprintf(w, "%s\t%d\t%s\t%d\n", t.ID, t.Pid, t.Status, t.Restarts)
			}
			return w.Flush()
		},
	}
	commands.AddFormatFlag(cmd, &format)
	return cmd
}
