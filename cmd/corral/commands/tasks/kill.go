package tasks

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func killCommand() *cobra.Command {
	var (
		signal string
		all    bool
	)
	cmd := &cobra.Command{
		Use:   "kill [-s SIGNAL] [-a] ID",
		Short: "Send a signal to a task",
		Long: "Send a signal to a task. SIGTERM, SIGINT and SIGKILL also mark its container stopped by its user\n" +
			"(label io.corral.restart.stopped), so that its restart policy leaves it stopped.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := ParseSignal(signal)
			if err != nil {
				return err
			}
			client, err := commands.NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			if sig == unix.SIGTERM || sig == unix.SIGINT || sig == unix.SIGKILL {
				if err := client.MarkStopped(cmd.Context(), args[0]); err != nil {
					return err
				}
			}
			req := &tasksapi.KillRequest{ContainerID: args[0], Signal: uint32(sig), All: all}
			if _, err := client.Tasks.Kill(cmd.Context(), req); err != nil {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "SIGTERM", "signal to send, by name (TERM, SIGKILL) or number")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "send the signal to every process of the task")
	return cmd
}

// ParseSignal parses a signal given as a name with or without the SIG prefix, in any case, or as a number.
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q: numbers run from 1 to 64", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal %q: want a name such as TERM or SIGKILL, or a number", s)
}
