package tasks

import (
	"fmt"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func psCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "ps ID",
		Short: "List the processes of a task",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			resp, err := client.Tasks.ListPids(cmd.Context(), &tasksapi.ListPidsRequest{ContainerID: args[0]})
			if err != nil {
				return err
			}
			w := commands.NewTable(cmd.OutOrStdout(), "PID\tINFO")
			for _, p := range resp.Processes {
				fmt.Fprintf(w, "%d\t%s\n", p.Pid, info(p))
			}
			return w.Flush()
		},
	}
}

// info renders a process's Info: "-" when absent, its fields when the type is known, else its type URL.
func info(p *tasktypes.ProcessInfo) string {
	if p.Info == nil {
		return "-"
	}
	if m, err := p.Info.UnmarshalNew(); err == nil {
		return fmt.Sprintf("%v", m)
	}
	return p.Info.TypeUrl
}
