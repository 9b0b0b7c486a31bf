// Command corrald is the Corral daemon: it serves containerd's gRPC API and runs containers through
// the lcr, shim v2 and shim v1 runtime families.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/containerd/log"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/config"
	"github.com/corral-dev/corral/daemon"
	"github.com/corral-dev/corral/services/version"
)

func main() {
	if err := command().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "corrald:", err)
		os.Exit(1)
	}
}

func command() *cobra.Command {
	var path string
	over := config.Default()
	cmd := &cobra.Command{
		Use:           "corrald",
		Short:         "Corral container daemon",
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			f := cmd.Flags()
			if f.Changed("root") {
				cfg.Root = over.Root
			}
			if f.Changed("state") {
				cfg.State = over.State
			}
			if f.Changed("address") {
				cfg.GRPC.Address = over.GRPC.Address
			}
			if f.Changed("log-level") {
				cfg.LogLevel = over.LogLevel
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			if err := log.SetLevel(cfg.LogLevel); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			d, err := daemon.New(ctx, cfg)
			if err != nil {
				return err
			}
			return d.Serve(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&path, "config", "c", "", "config file (TOML); see `corrald config default`")
	f.StringVar(&over.Root, "root", over.Root, "persistent data directory")
	f.StringVar(&over.State, "state", over.State, "volatile data directory")
	f.StringVarP(&over.GRPC.Address, "address", "a", over.GRPC.Address, "gRPC unix socket")
	f.StringVar(&over.LogLevel, "log-level", over.LogLevel, "trace, debug, info, warn or error")

	cfgCmd := &cobra.Command{Use: "config", Short: "Configuration commands"}
	cfgCmd.AddCommand(&cobra.Command{
		Use:   "default",
		Short: "Print the default configuration, documented",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Print(config.DefaultTOML) },
	})
	cmd.AddCommand(cfgCmd)
	return cmd
}
