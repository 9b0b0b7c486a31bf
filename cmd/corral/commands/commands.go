// Package commands holds the corral root command, the client every command dials corrald with, and
// the helpers the command groups share.
package commands

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/api"
)

// DefaultAddress is the corrald socket used when neither --address nor CORRAL_ADDRESS is set.
const DefaultAddress = "/run/corral/corrald.sock"

// RootCommand returns the corral command with its global flags; main adds the subcommands.
func RootCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "corral",
		Short:         "Command-line client of the corrald container engine",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	f := cmd.PersistentFlags()
	f.String("address", envOr("CORRAL_ADDRESS", DefaultAddress), "corrald socket (env CORRAL_ADDRESS)")
	f.StringP("namespace", "n", envOr("CORRAL_NAMESPACE", api.DefaultNamespace), "namespace (env CORRAL_NAMESPACE)")
	return cmd
}

// Group makes cmd a command group: without a verb it prints its help, and an unknown verb is an
// error naming the closest ones, where cobra would print the help and succeed.
func Group(cmd *cobra.Command) *cobra.Command {
	cmd.SuggestionsMinimumDistance = 2 // cobra's own, which it sets only for the root
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return fmt.Errorf("%s: %w", msg, errdefs.ErrInvalidArgument)
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	return cmd
}

// Address returns the corrald socket the command talks to.
func Address(cmd *cobra.Command) string {
	return global(cmd, "address", "CORRAL_ADDRESS", DefaultAddress)
}

// Namespace returns the namespace the command works in.
func Namespace(cmd *cobra.Command) string {
	return global(cmd, "namespace", "CORRAL_NAMESPACE", api.DefaultNamespace)
}

// global returns a global flag's value, or its environment default when cmd is not under RootCommand.
func global(cmd *cobra.Command, name, env, def string) string {
	if f := cmd.Flag(name); f != nil {
		return f.Value.String()
	}
	return envOr(env, def)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// ExitError makes corral exit with Status without printing anything more.
type ExitError struct{ Status int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Status) }

// Format is the value of a --format flag: "" (the command's default), Table or JSON.
type Format string

// The formats a --format flag accepts.
const (
	Table Format = "table"
	JSON  Format = "json"
)

// String returns the format name.
func (f *Format) String() string { return string(*f) }

// Set accepts "table" and "json".
func (f *Format) Set(s string) error {
	if v := Format(s); v != Table && v != JSON {
		return fmt.Errorf("unknown format %q: want table or json: %w", s, errdefs.ErrInvalidArgument)
	}
	*f = Format(s)
	return nil
}

// Type names the flag type in help.
func (f *Format) Type() string { return "format" }

// AddFormatFlag adds --format to cmd, stored in f.
func AddFormatFlag(cmd *cobra.Command, f *Format) {
	cmd.Flags().Var(f, "format", "output format: table or json")
}

// PrintJSON writes v to w as indented JSON.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// NewTable returns a tabwriter on w with the tab-separated header already written; call Flush when done.
func NewTable(w io.Writer, header string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}
