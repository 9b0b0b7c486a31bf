package tasks

import (
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// cpuPeriod is the CFS period, in microseconds, that --cpus sets the quota against.
const cpuPeriod = 100000

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
	res := &specs.LinuxResources{}
	if memory != "" {
		n, err := units.RAMInBytes(memory)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("invalid --memory %q: want a size such as 64m: %w", memory, errdefs.ErrInvalidArgument)
		}
		res.Memory = &specs.LinuxMemory{Limit: &n}
	}
	if cpus < 0 || cpus > 0 && cpus*cpuPeriod < 1000 {
		return nil, fmt.Errorf("invalid --cpus %v: want at least 0.01: %w", cpus, errdefs.ErrInvalidArgument)
	}
	if cpus > 0 {
		quota, period := int64(cpus*cpuPeriod), uint64(cpuPeriod)
		res.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}
	if res.Memory == nil && res.CPU == nil {
		return nil, fmt.Errorf("nothing to update: give --memory or --cpus: %w", errdefs.ErrInvalidArgument)
	}
	return res, nil
}
