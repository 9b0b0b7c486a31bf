package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/config"
)

// configCommand returns the config group: default and dump.
func configCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Configuration commands",
		Args:  cobra.NoArgs, // an unknown subcommand is an error, not help
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "default",
		Short: "Print the default configuration, documented",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprint(cmd.OutOrStdout(), config.DefaultTOML) },
	}, &cobra.Command{
		Use:   "dump",
		Short: "Print the effective configuration: the config file over the defaults, then the flags",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.load(cmd)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), cfg)
			return err
		},
	})
	return cmd
}
