package tasks

import (
	"fmt"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func updateCommand() *cobra.Command {
	var (
		memory string
		cpus   float64
	)
	cmd := &cobra.Command{
		Use:   "update [--memory SIZE] [--cpus N] ID",
		Short: "Change the memory limit or CPU share of a running task",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := resources(memory, cpus)
			if err != nil {
				return err
			}
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			return client.Update(cmd.Context(), args[0], res)
		},
	}
	cmd.Flags().StringVarP(&memory, "memory", "m", "", "memory limit: bytes, or with a k, m or g suffix (powers of 1024)")
	cmd.Flags().Float64Var(&cpus, "cpus", 0, "CPUs the task may use, such as 1.5")
	return cmd
}

// resources returns the OCI resources that --memory and --cpus ask for; "" and 0 leave them as they are.
func resources(memory string, cpus float64) (*specs.LinuxResources, error) {
	res, err := commands.ParseResources(memory, cpus, 0)
	if err != nil {
		return nil, err
	}
	if res.Memory == nil && res.CPU == nil {
		return nil, fmt.Errorf("nothing to update: give --memory or --cpus: %w", errdefs.ErrInvalidArgument)
	}
	return res, nil
}
