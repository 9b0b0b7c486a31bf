package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/api/keeper"
)

func TestDefaultTOMLMatchesDefault(t *testing.T) {
	c := Default()
	if err := c.decode([]byte(DefaultTOML)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("DefaultTOML decodes to\n%+v\nwant\n%+v", c, Default())
	}
}

func TestDecode(t *testing.T) {
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("%q", "--x")
	}
	for _, tc := range []struct {
		name, in, wantErr string
		check             func(*Config) bool
	}{
		{name: "runtime", in: "[runtimes.My-Runc]\npath = \"/usr/sbin/runc\"\nruntime_args = [\"--debug\"]\n",
			check: func(c *Config) bool {
				rt, ok := c.Runtimes["my-runc"]
				return ok && rt.Path == "/usr/sbin/runc" && len(rt.RuntimeArgs) == 1
			}},
		{name: "timeout", in: "[timeouts]\nruntime_call = \"2s\"\n",
			check: func(c *Config) bool { return c.Timeouts.RuntimeCall.Duration == 2*time.Second }},
		{name: "default runtime", in: "default_runtime = \"runc\"\n",
			check: func(c *Config) bool { return c.DefaultRuntime == "runc" }},
		{name: "unknown key", in: "colour = 1\n", wantErr: "unknown key colour"},
		{name: "unknown nested key", in: "[runtimes.x]\nbinary = \"/x\"\n", wantErr: "unknown key runtimes.x.binary"},
		{name: "51 args", in: "[runtimes.x]\nruntime_args = [" + strings.Join(many, ",") + "]\n", wantErr: "51 runtime_args, at most 50"},
		{name: "50 args", in: "[runtimes.x]\nruntime_args = [" + strings.Join(many[:50], ",") + "]\n",
			check: func(c *Config) bool { return len(c.Runtimes["x"].RuntimeArgs) == 50 }},
		{name: "relative path", in: "[runtimes.x]\npath = \"runc\"\n", wantErr: "must be absolute"},
		{name: "duplicate case", in: "[runtimes.X]\n[runtimes.x]\n", wantErr: "configured twice"},
		{name: "version", in: "version = 2\n", wantErr: "unsupported config version 2"},
		{name: "cri handler", in: "[cri.runtimes.kata]\nruntime = \"io.containerd.kata.v2\"\n[cri.cni]\nconf_dir = \"/x\"\n",
			check: func(c *Config) bool {
				return c.CRI.Runtimes["kata"].Runtime == "io.containerd.kata.v2" && c.CRI.CNI.ConfDir == "/x" && c.CRI.CNI.BinDir == "/usr/lib/cni"
			}},
		{name: "cri handler without runtime", in: "[cri.runtimes.kata]\n", wantErr: "cri.runtimes.kata.runtime must name a runtime"},
		{name: "cri empty handler", in: "[cri.runtimes.\"\"]\nruntime = \"runc\"\n", wantErr: "empty handler always uses default_runtime"},
		{name: "cri relative cni dir", in: "[cri.cni]\nbin_dir = \"cni\"\n", wantErr: "cri.cni.bin_dir must be an absolute path"},
		{name: "cri stream server", in: "[cri]\nstream_server_address = \"::1\"\nstream_server_port = \"10010\"\n[timeouts]\nstream_idle = \"1m\"\n",
			check: func(c *Config) bool {
				return c.CRI.StreamServerAddress == "::1" && c.CRI.StreamServerPort == "10010" && c.Timeouts.StreamIdle.Duration == time.Minute
			}},
		{name: "cri stream server name", in: "[cri]\nstream_server_address = \"localhost\"\n", wantErr: "cri.stream_server_address must be an IP address"},
		{name: "cri stream server port", in: "[cri]\nstream_server_port = \"65536\"\n", wantErr: "cri.stream_server_port must be a port number"},
		{name: "cri empty namespace", in: "[cri]\nnamespace = \"\"\n", wantErr: "cri.namespace must not be empty"},
		{name: "cri unknown key", in: "[cri.runtimes.x]\nruntime_type = \"y\"\n", wantErr: "unknown key cri.runtimes.x.runtime_type"},
		{name: "log level", in: "log_level = \"loud\"\n", wantErr: "log_level \"loud\""},
		{name: "bad duration", in: "[timeouts]\nshutdown = \"soon\"\n", wantErr: "invalid duration"},
		{name: "relative root", in: "root = \"data\"\n", wantErr: "root must be an absolute path"},
		{name: "restart", in: "[restart]\nbackoff = \"1s\"\nmax_backoff = \"5s\"\n",
			check: func(c *Config) bool {
				return c.Restart.Backoff.Duration == time.Second && c.Restart.MaxBackoff.Duration == 5*time.Second
			}},
		{name: "restart bounds", in: "[restart]\nbackoff = \"2m\"\n", wantErr: "restart.max_backoff 1m0s is below restart.backoff 2m0s"},
		{name: "log", in: "[log]\nmax_size = \"100k\"\nmax_file = 1\nformat = \"cri\"\n",
			check: func(c *Config) bool {
				return c.Log == keeper.Log{MaxSize: 100 << 10, MaxFile: 1, Format: keeper.LogFormatCRI}
			}},
		{name: "log size", in: "[log]\nmax_size = \"big\"\n", wantErr: "invalid size \"big\""},
		{name: "log size zero", in: "[log]\nmax_size = \"0\"\n", wantErr: "max_size must be positive"},
		{name: "log max file", in: "[log]\nmax_file = 0\n", wantErr: "max_file must be at least 1"},
		{name: "log format", in: "[log]\nformat = \"syslog\"\n", wantErr: "log format \"syslog\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			err := c.decode([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("got %v, want InvalidArgument containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("unexpected config %+v", c)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(file, []byte("root = \"/r\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nope.toml")
	for _, tc := range []struct {
		path     string
		optional bool
		wantRoot string // "" means an error is expected
	}{
		{file, false, "/r"},
		{file, true, "/r"},
		{missing, true, Default().Root},
		{missing, false, ""},
	} {
		c, err := Load(tc.path, tc.optional)
		if tc.wantRoot == "" {
			if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Load(%s, %t) = %v, want not exist", tc.path, tc.optional, err)
			}
			continue
		}
		wantPath := tc.path
		if tc.path == missing {
			wantPath = ""
		}
		if err != nil || c.Root != tc.wantRoot || c.Path != wantPath {
			t.Errorf("Load(%s, %t) = %v, %v; want root %s, path %q", tc.path, tc.optional, c, err, tc.wantRoot, wantPath)
		}
	}
}
