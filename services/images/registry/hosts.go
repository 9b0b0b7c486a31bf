package registry

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/v2/core/remotes/docker/config"
	"github.com/containerd/errdefs"
	"github.com/pelletier/go-toml/v2"
)

// HostDir finds a registry host's directory under root as containerd does (host, host_port_, then
// _default), and refuses one whose hosts.toml is not valid TOML: containerd's ConfigureHosts would log
// that and go on as if the file did not exist, sending requests to the host the reference names.
func HostDir(root string) func(host string) (string, error) {
	find := config.HostDirFromRoot(root)
	return func(host string) (string, error) {
		dir, err := find(host)
		if err != nil {
			return dir, err
		}
		file := filepath.Join(dir, "hosts.toml")
		b, err := os.ReadFile(file)
		if os.IsNotExist(err) {
			return dir, nil
		} else if err != nil {
			return "", fmt.Errorf("failed to read registry configuration %s: %w", file, err)
		}
		var v map[string]any
		if err := toml.Unmarshal(b, &v); err != nil {
			return "", fmt.Errorf("failed to parse registry configuration %s: %v: %w", file, err, errdefs.ErrInvalidArgument)
		}
		return dir, nil
	}
}
