// Package commands holds the corral root command, the client every command dials corrald with, and
// the helpers the command groups share.
package commands

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/api"
)

// DefaultAddress is the corrald socket used when neither --address nor CORRAL_ADDRESS is set.
const DefaultAddress = "/run/corral/corrald.sock"

// RootCommand returns the corral command with its global flags; main adds the subcommands.
func RootCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "corral",
		Short:             "Command-line client of the corrald container engine",
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	f := cmd.PersistentFlags()
	f.String("address", envOr("CORRAL_ADDRESS", DefaultAddress), "corrald socket (env CORRAL_ADDRESS)")
	f.StringP("namespace", "n", envOr("CORRAL_NAMESPACE", api.DefaultNamespace), "namespace (env CORRAL_NAMESPACE)")
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

// Format is the value of a --format flag: "" (a table) or "json".
type Format string

// JSON is the Format asking for JSON output.
const JSON Format = "json"

// String returns the format name.
func (f *Format) String() string { return string(*f) }

// Set accepts "json" and "table".
func (f *Format) Set(s string) error {
	switch s {
	case "json":
		*f = JSON
	case "table":
		*f = ""
	default:
		return fmt.Errorf("unknown format %q: want json or table", s)
	}
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
