package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/docker/cli/cli/config/configfile"
)

// dockerHubAuthKey is the key under which docker stores the credentials of docker.io, whose registry
// host is registry-1.docker.io.
const dockerHubAuthKey = "https://index.docker.io/v1/"

// DefaultAuthFile returns the docker config file read when none is named: $DOCKER_CONFIG/config.json,
// else ~/.docker/config.json; "" when neither can be named.
func DefaultAuthFile() string {
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker", "config.json")
}

// FileCredentials reads a docker-style config file (auths with auth, username and password, or
// identitytoken; credsStore and credHelpers) and returns containerd's credentials callback over it. A
// missing file gives no credentials; a malformed one is an InvalidArgument error naming it.
func FileCredentials(path string) (func(host string) (string, string, error), error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return func(string) (string, string, error) { return "", "", nil }, nil
	} else if err != nil {
		return nil, fmt.Errorf("failed to open registry credentials %s: %w", path, err)
	}
	defer f.Close()
	cf := configfile.New(path)
	if err := cf.LoadFromReader(f); err != nil {
		return nil, fmt.Errorf("failed to parse registry credentials %s: %v: %w", path, err, errdefs.ErrInvalidArgument)
	}
	return func(host string) (string, string, error) {
		key := host
		if host == "registry-1.docker.io" {
			key = dockerHubAuthKey
		}
		ac, err := cf.GetAuthConfig(key)
		if err != nil {
			return "", "", fmt.Errorf("failed to get the credentials for %s from %s: %w", host, path, err)
		}
		if ac.IdentityToken != "" {
			return "", ac.IdentityToken, nil
		}
		return ac.Username, ac.Password, nil
	}, nil
}
