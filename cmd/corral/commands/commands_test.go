package commands

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestGlobalFlags(t *testing.T) {
	for _, tc := range []struct {
		name          string
		env           map[string]string
		args          []string
		wantAddr, wNS string
	}{
		{name: "defaults", wantAddr: DefaultAddress, wNS: "default"},
		{name: "env", env: map[string]string{"CORRAL_ADDRESS": "/e.sock", "CORRAL_NAMESPACE": "e"}, wantAddr: "/e.sock", wNS: "e"},
		{
			name: "flags beat env", env: map[string]string{"CORRAL_ADDRESS": "/e.sock", "CORRAL_NAMESPACE": "e"},
			args: []string{"--address", "/f.sock", "-n", "f"}, wantAddr: "/f.sock", wNS: "f",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CORRAL_ADDRESS", tc.env["CORRAL_ADDRESS"])
			t.Setenv("CORRAL_NAMESPACE", tc.env["CORRAL_NAMESPACE"])
			var addr, ns string
			root := RootCommand()
			root.AddCommand(&cobra.Command{Use: "x", Run: func(cmd *cobra.Command, _ []string) {
				addr, ns = Address(cmd), Namespace(cmd)
			}})
			root.SetArgs(append(tc.args, "x"))
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if addr != tc.wantAddr || ns != tc.wNS {
				t.Errorf("address %q namespace %q, want %q %q", addr, ns, tc.wantAddr, tc.wNS)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	var f Format
	if err := f.Set("json"); err != nil || f != JSON {
		t.Errorf("Set(json) = %v, %q", err, f)
	}
	if err := f.Set("table"); err != nil || f != Table {
		t.Errorf("Set(table) = %v, %q", err, f)
	}
	if err := f.Set("yaml"); err == nil {
		t.Error("Set(yaml) accepted")
	}
}

func TestGroupUnknownVerb(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string // "" means success
	}{
		{args: []string{"g"}},
		{args: []string{"g", "ls"}},
		{args: []string{"g", "lss"}, wantErr: `unknown command "lss" for "corral g"; did you mean ls?`},
		{args: []string{"g", "frobnicate"}, wantErr: `unknown command "frobnicate" for "corral g"`},
		{args: []string{"gg"}, wantErr: `unknown command "gg" for "corral"`},
	} {
		root := RootCommand()
		g := Group(&cobra.Command{Use: "g"})
		g.AddCommand(&cobra.Command{Use: "ls", Run: func(*cobra.Command, []string) {}})
		root.AddCommand(g)
		root.SetArgs(tc.args)
		root.SetOut(io.Discard)
		err := root.Execute()
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("corral %v: %v, want %q", tc.args, err, tc.wantErr)
		}
	}
}
