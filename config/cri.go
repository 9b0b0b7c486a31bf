package config

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// CRI configures the Kubernetes CRI (runtime.v1 RuntimeService and ImageService) that corrald serves
// on its gRPC socket.
type CRI struct {
	// Namespace is the containerd namespace the CRI keeps its pods, containers and images in.
	// Default "k8s.io".
	Namespace string `toml:"namespace"`
	// SandboxImage is the image of every pod's pause container. Default registry.k8s.io/pause:3.9, the
	// one cri-harness builds.
	SandboxImage string `toml:"sandbox_image"`
	// StreamServerAddress is the IP address the streaming server (exec, attach, port-forward)
	// listens on. Default 127.0.0.1.
	StreamServerAddress string `toml:"stream_server_address"`
	// StreamServerPort is its port; "0" (the default) takes a free port.
	StreamServerPort string `toml:"stream_server_port"`
	// Runtimes maps a RuntimeClass handler to a runtime name; the empty handler uses default_runtime.
	Runtimes map[string]CRIRuntime `toml:"runtimes"`
	// CNI says where the CNI network configuration and plugins are.
	CNI CNI `toml:"cni"`
	// Registry configures image pulls.
	Registry CRIRegistry `toml:"registry"`
}

// CRIRuntime is one [cri.runtimes.HANDLER] table.
type CRIRuntime struct {
	// Runtime is any runtime name corrald accepts: lcr, runc, runsc, io.containerd.runc.v2, a name
	// under [runtimes].
	Runtime string `toml:"runtime"`
}

// CNI is the [cri.cni] table.
type CNI struct {
	// ConfDir holds the network configuration; the first file in lexical order is used.
	// Default /etc/cni/net.d.
	ConfDir string `toml:"conf_dir"`
	// BinDir holds the plugin binaries. Default /usr/lib/cni, where Debian installs them.
	BinDir string `toml:"bin_dir"`
}

// CRIRegistry is the [cri.registry] table.
type CRIRegistry struct {
	// ConfigPath is a directory of hosts.toml files, one directory per registry host (containerd's
	// format). Default /etc/corral/certs.d.
	ConfigPath string `toml:"config_path"`
}

// defaultCRI is the [cri] table's defaults.
func defaultCRI() CRI {
	return CRI{
		Namespace:           "k8s.io",
		SandboxImage:        "registry.k8s.io/pause:3.9",
		StreamServerAddress: "127.0.0.1",
		StreamServerPort:    "0",
		Runtimes:            map[string]CRIRuntime{},
		CNI:                 CNI{ConfDir: "/etc/cni/net.d", BinDir: "/usr/lib/cni"},
		Registry:            CRIRegistry{ConfigPath: "/etc/corral/certs.d"},
	}
}

// Validate checks the [cri] table's values; whether each handler's runtime exists is checked when
// corrald starts, against the runtimes it knows.
func (c *CRI) Validate() error {
	if c.Namespace == "" {
		return fmt.Errorf("cri.namespace must not be empty: %w", errdefs.ErrInvalidArgument)
	}
	if c.SandboxImage == "" {
		return fmt.Errorf("cri.sandbox_image must not be empty: %w", errdefs.ErrInvalidArgument)
	}
	if net.ParseIP(c.StreamServerAddress) == nil {
		return fmt.Errorf("cri.stream_server_address must be an IP address, got %q: %w", c.StreamServerAddress, errdefs.ErrInvalidArgument)
	}
	if _, err := strconv.ParseUint(c.StreamServerPort, 10, 16); err != nil {
		return fmt.Errorf("cri.stream_server_port must be a port number from 0 to 65535, got %q: %w", c.StreamServerPort, errdefs.ErrInvalidArgument)
	}
	for k, v := range map[string]string{"cri.cni.conf_dir": c.CNI.ConfDir, "cri.cni.bin_dir": c.CNI.BinDir, "cri.registry.config_path": c.Registry.ConfigPath} {
		if !strings.HasPrefix(v, "/") {
			return fmt.Errorf("%s must be an absolute path, got %q: %w", k, v, errdefs.ErrInvalidArgument)
		}
	}
	if _, ok := c.Runtimes[""]; ok {
		return fmt.Errorf("a [cri.runtimes] entry has an empty handler; the empty handler always uses default_runtime: %w", errdefs.ErrInvalidArgument)
	}
	for _, h := range c.Handlers() {
		if c.Runtimes[h].Runtime == "" {
			return fmt.Errorf("cri.runtimes.%s.runtime must name a runtime (lcr, runc, runsc, io.containerd.runc.v2, ...): %w", h, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// Handlers returns the configured RuntimeClass handlers, sorted.
func (c *CRI) Handlers() []string {
	hs := make([]string, 0, len(c.Runtimes))
	for h := range c.Runtimes {
		hs = append(hs, h)
	}
	sort.Strings(hs)
	return hs
}
