package commands

import (
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/corral-dev/corral/services/version"
)

// VersionCommand returns the version command, printing the client's and corrald's versions.
func VersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the client and server versions and revisions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Client:\n  Version:  %s\n  Revision: %s\n\n", version.Version, version.Revision)
			client, err := NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			v, err := client.Version.Version(cmd.Context(), &emptypb.Empty{})
			if err != nil {
				return fmt.Errorf("failed to get the version of corrald: %w", err)
			}
			fmt.Fprintf(out, "Server:\n  Version:  %s\n  Revision: %s\n", v.Version, v.Revision)
			return nil
		},
	}
}
