package integration

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// startRegistry starts Debian's docker-registry on a free port of 127.0.0.1, storing in a
// temporary directory, and returns its address as localhost:PORT. It stops with the test.
func startRegistry(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("localhost:%d", startRegistryWith(t, registryOpts{}))
}

// registryOpts configure a registry of startRegistryWith.
type registryOpts struct {
	storage   string // the directory it stores in; a temporary one if empty
	cert, key string // PEM files: it serves HTTPS
	htpasswd  string // a file of bcrypt hashes: it wants basic auth
}

// startRegistryWith starts docker-registry as startRegistry does, as o says, and returns its port.
func startRegistryWith(t *testing.T, o registryOpts) int {
	t.Helper()
	bin := requireTool(t, "docker-registry")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yml")
	scheme, tlsYAML, authYAML := "http", "", ""
	if o.cert != "" {
		scheme, tlsYAML = "https", fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", o.cert, o.key)
	}
	if o.htpasswd != "" {
		authYAML = fmt.Sprintf("auth:\n  htpasswd:\n    realm: corral-test\n    path: %s\n", o.htpasswd)
	}
	if o.storage == "" {
		o.storage = filepath.Join(dir, "storage")
	}
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%d\n%s%s",
		o.storage, port, tlsYAML, authYAML)
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command(bin, "serve", config)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("registry log:\n%s", log.String())
		}
	})
	url := fmt.Sprintf("%s://127.0.0.1:%d/v2/", scheme, port)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return port
			}
		}
	}
	t.Fatalf("registry did not answer on %s within 10s\n%s", url, log.String())
	return 0
}
