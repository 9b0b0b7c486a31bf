package tasks

import (
	"fmt"
	"time"

	"github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// unlimited is the smallest value a cgroup v1 memory limit takes when there is none.
const unlimited = 1 << 62

func statsCommand() *cobra.Command {
	var format commands.Format
	cmd := &cobra.Command{
		Use:   "stats [--format table|json] [ID...]",
		Short: "Print the CPU time, memory and process count of tasks, by default of every task",
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			list, err := client.Stats(cmd.Context(), args...)
			if err != nil {
				return err
			}
			if format == commands.JSON {
				return commands.PrintJSON(cmd.OutOrStdout(), list)
			}
			w := commands.NewTable(cmd.OutOrStdout(), "TASK\tCPU\tMEMORY\tLIMIT\tPIDS")
			for _, s := range list {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", s.ID, time.Duration(s.CPU).Round(time.Millisecond), units.BytesSize(float64(s.MemoryUsage)), limit(s.MemoryLimit), s.Pids)
			}
			return w.Flush()
		},
	}
	commands.AddFormatFlag(cmd, &format)
	return cmd
}

// limit prints a memory limit, "-" when there is none.
func limit(n uint64) string {
	if n == 0 || n >= unlimited {
		return "-"
	}
	return units.BytesSize(float64(n))
}
