// Command corral is the command-line client of corrald; it speaks containerd's gRPC API.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/corral-dev/corral/cmd/corral/commands"
	"github.com/corral-dev/corral/cmd/corral/commands/containers"
	"github.com/corral-dev/corral/cmd/corral/commands/images"
	"github.com/corral-dev/corral/cmd/corral/commands/run"
	"github.com/corral-dev/corral/cmd/corral/commands/tasks"
)

func main() {
	root := commands.RootCommand()
	root.AddCommand(run.Command(), containers.Command(), tasks.Command(), images.Command(), containers.RmCommand(),
		commands.LogsCommand(), commands.EventsCommand(), commands.InfoCommand(), commands.RuntimesCommand(),
		commands.VersionCommand())
	if err := root.Execute(); err != nil {
		var exit *commands.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.Status)
		}
		fmt.Fprintln(os.Stderr, "corral:", err)
		os.Exit(1)
	}
}
