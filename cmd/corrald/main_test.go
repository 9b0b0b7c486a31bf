package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/corral-dev/corral/config"
)

func TestConfigDump(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	etc := write("etc.toml", "root = \"/etc-root\"\nlog_level = \"debug\"\n")
	given := write("given.toml", "root = \"/given-root\"\n[grpc]\naddress = \"/given.sock\"\n")
	missing := filepath.Join(dir, "missing.toml")
	for _, tc := range []struct {
		name          string
		defaultConfig string
		args          []string
		want          func(*config.Config) bool
		wantErr       error
	}{
		{name: "defaults", defaultConfig: missing,
			want: func(c *config.Config) bool { return c.Root == config.Default().Root }},
		{name: "default path", defaultConfig: etc,
			want: func(c *config.Config) bool { return c.Root == "/etc-root" && c.LogLevel == "debug" }},
		{name: "--config wins over the default path", defaultConfig: etc, args: []string{"--config", given},
			want: func(c *config.Config) bool { return c.Root == "/given-root" && c.LogLevel == "info" }},
		{name: "flags win over the file", defaultConfig: etc, args: []string{"-c", given, "--root", "/flag-root", "--log-level", "warn"},
			want: func(c *config.Config) bool {
				return c.Root == "/flag-root" && c.LogLevel == "warn" && c.GRPC.Address == "/given.sock"
			}},
		{name: "missing --config", defaultConfig: etc, args: []string{"--config", missing}, wantErr: os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			cmd := command(tc.defaultConfig)
			cmd.SetOut(&out)
			cmd.SetArgs(append(tc.args, "config", "dump"))
			err := cmd.Execute()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// What dump prints loads back as a config file.
			c, err := config.Load(write("dump.toml", out.String()), false)
			if err != nil {
				t.Fatalf("dump does not load: %v\n%s", err, &out)
			}
			if !tc.want(c) {
				t.Errorf("unexpected effective config:\n%s", &out)
			}
		})
	}
}

func TestUnknownSubcommand(t *testing.T) {
	cmd := command(filepath.Join(t.TempDir(), "missing.toml"))
	cmd.SetArgs([]string{"config", "dumpp"})
	cmd.SetOut(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil {
		t.Fatal("`corrald config dumpp` succeeded")
	}
}
