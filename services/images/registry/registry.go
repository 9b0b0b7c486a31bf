// Package registry configures how images are fetched from registries, the way containerd does it: a
// directory of hosts.toml files (mirrors, plain HTTP, a CA, skip_verify), one directory per registry
// host, and credentials from a docker-style config file. It builds containerd's docker resolver; corral's
// pull uses it, and corrald's CRI image service is meant to.
package registry

import (
	"context"

	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/core/remotes/docker/config"
)

// DefaultHostsDir holds a directory per registry host, each with a hosts.toml, when no other is named:
// containerd's config_path, under corral's own /etc directory.
const DefaultHostsDir = "/etc/corral/certs.d"

// Options say where a resolver finds its registry configuration.
type Options struct {
	// HostsDir holds <host>[_<port>_]/hosts.toml files, as containerd's config_path; "" reads none.
	HostsDir string
	// AuthFile is a docker-style config.json whose auths (and credential helpers) give credentials; a
	// missing file gives none, "" reads none.
	AuthFile string
	// PlainHTTP talks HTTP, not HTTPS, to a registry that no hosts.toml configures.
	PlainHTTP bool
	// Username and Password, when Username is set, are sent to every registry instead of AuthFile's.
	Username, Password string
}

// NewResolver returns containerd's docker resolver over Hosts(ctx, o).
func NewResolver(ctx context.Context, o Options) (remotes.Resolver, error) {
	hosts, err := Hosts(ctx, o)
	if err != nil {
		return nil, err
	}
	return docker.NewResolver(docker.ResolverOptions{Hosts: hosts}), nil
}

// Hosts returns containerd's registry hosts configured by o: for a registry host, its mirrors and
// itself (or the server its hosts.toml names), each with its scheme, TLS settings and credentials. It
// reads AuthFile now, so a malformed one is an error here; a malformed hosts.toml is an error when a
// reference names its host.
func Hosts(ctx context.Context, o Options) (docker.RegistryHosts, error) {
	creds := func(string) (string, string, error) { return o.Username, o.Password, nil }
	if o.Username == "" && o.AuthFile != "" {
		var err error
		if creds, err = FileCredentials(o.AuthFile); err != nil {
			return nil, err
		}
	}
	hosts := config.HostOptions{Credentials: creds}
	if o.PlainHTTP {
		hosts.DefaultScheme = "http"
	}
	if o.HostsDir != "" {
		hosts.HostDir = HostDir(o.HostsDir)
	}
	return config.ConfigureHosts(ctx, hosts), nil
}
