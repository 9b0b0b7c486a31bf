package registry

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestFileCredentials(t *testing.T) {
	t.Setenv("DOCKER_AUTH_CONFIG", "") // docker's configfile would read it before the file
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name       string
		file       string // "" for no file
		host       string
		user, pass string
		wantErr    string
	}{
		{name: "missing file", host: "127.0.0.1:5000"},
		{name: "auth", file: `{"auths":{"127.0.0.1:5000":{"auth":"` + b64("alice:s3cret:x") + `"}}}`, host: "127.0.0.1:5000", user: "alice", pass: "s3cret:x"},
		{name: "username and password", file: `{"auths":{"127.0.0.1:5000":{"username":"bob","password":"pw"}}}`, host: "127.0.0.1:5000", user: "bob", pass: "pw"},
		{name: "identity token", file: `{"auths":{"127.0.0.1:5000":{"identitytoken":"tok"}}}`, host: "127.0.0.1:5000", pass: "tok"},
		{name: "key with a scheme", file: `{"auths":{"https://127.0.0.1:5000/v1/":{"auth":"` + b64("carol:pw") + `"}}}`, host: "127.0.0.1:5000", user: "carol", pass: "pw"},
		{name: "other host", file: `{"auths":{"127.0.0.1:5000":{"auth":"` + b64("alice:pw") + `"}}}`, host: "127.0.0.1:5001"},
		{name: "docker hub", file: `{"auths":{"https://index.docker.io/v1/":{"auth":"` + b64("dave:pw") + `"}}}`, host: "registry-1.docker.io", user: "dave", pass: "pw"},
		{name: "empty file", file: " ", host: "127.0.0.1:5000"},
		{name: "not json", file: `{"auths":`, wantErr: "failed to parse registry credentials"},
		{name: "bad base64", file: `{"auths":{"127.0.0.1:5000":{"auth":"%%%"}}}`, wantErr: "failed to parse registry credentials"},
		{name: "auth without a user", file: `{"auths":{"127.0.0.1:5000":{"auth":"` + b64(":pw") + `"}}}`, wantErr: "invalid auth configuration file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if tc.file != "" {
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			creds, err := FileCredentials(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) || !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("want an InvalidArgument error naming %s with %q, got %v", path, tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			user, pass, err := creds(tc.host)
			if err != nil {
				t.Fatal(err)
			}
			if user != tc.user || pass != tc.pass {
				t.Fatalf("want %q %q, got %q %q", tc.user, tc.pass, user, pass)
			}
		})
	}
}

func TestDefaultAuthFile(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", "/etc/docker-test")
	if got := DefaultAuthFile(); got != "/etc/docker-test/config.json" {
		t.Fatalf("with DOCKER_CONFIG: got %q", got)
	}
	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("HOME", "/home/test")
	if got := DefaultAuthFile(); got != "/home/test/.docker/config.json" {
		t.Fatalf("without DOCKER_CONFIG: got %q", got)
	}
}
