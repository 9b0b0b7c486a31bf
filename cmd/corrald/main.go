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
	if err := command(config.DefaultPath).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "corrald:", err)
		os.Exit(1)
	}
}

// command returns corrald's root command; without --config it reads defaultConfig if that exists.
func command(defaultConfig string) *cobra.Command {
	o := &options{over: config.Default()}
	cmd := &cobra.Command{
		Use:           "corrald",
		Short:         "Corral container daemon",
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.load(cmd)
			if err != nil {
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
	f := cmd.PersistentFlags()
	f.StringVarP(&o.path, "config", "c", defaultConfig, "config file (TOML), read if it exists unless given; see `corrald config default`")
	f.StringVar(&o.over.Root, "root", o.over.Root, "persistent data directory")
	f.StringVar(&o.over.State, "state", o.over.State, "volatile data directory")
	f.StringVarP(&o.over.GRPC.Address, "address", "a", o.over.GRPC.Address, "gRPC unix socket")
	f.StringVar(&o.over.LogLevel, "log-level", o.over.LogLevel, "trace, debug, info, warn or error")
	cmd.AddCommand(configCommand(o))
	return cmd
}

// options are corrald's global flags: the config file and the settings that override it.
type options struct {
	path string
	over *config.Config
}

// load returns the effective configuration: the config file over the defaults, then the flags given.
func (o *options) load(cmd *cobra.Command) (*config.Config, error) {
	f := cmd.Flags()
	cfg, err := config.Load(o.path, !f.Changed("config"))
	if err != nil {
		return nil, err
	}
	if f.Changed("root") {
		cfg.Root = o.over.Root
	}
	if f.Changed("state") {
		cfg.State = o.over.State
	}
	if f.Changed("address") {
		cfg.GRPC.Address = o.over.GRPC.Address
	}
	if f.Changed("log-level") {
		cfg.LogLevel = o.over.LogLevel
	}
	return cfg, cfg.Validate()
}
