package registry

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/errdefs"
)

// host is what a test checks of a docker.RegistryHost.
type host struct {
	url        string // scheme://host/path
	caps       docker.HostCapabilities
	skipVerify bool
	ca         bool // RootCAs set
	fallback   bool // HTTPS first, then HTTP
}

func TestHosts(t *testing.T) {
	all := docker.HostCapabilityPull | docker.HostCapabilityResolve | docker.HostCapabilityPush | docker.HostCapabilityReferrers
	pullResolve := docker.HostCapabilityPull | docker.HostCapabilityResolve
	for _, tc := range []struct {
		name      string
		dirs      map[string]string // host directory → hosts.toml ("" for a directory without one)
		plainHTTP bool
		host      string
		want      []host
		wantErr   string
	}{
		{name: "no config", host: "registry.corral.test", want: []host{{url: "https://registry.corral.test/v2", caps: all}}},
		{name: "loopback with a port: https, then http", host: "127.0.0.1:5000", want: []host{{url: "https://127.0.0.1:5000/v2", caps: all, fallback: true}}},
		{name: "plain-http", plainHTTP: true, host: "registry.corral.test", want: []host{{url: "http://registry.corral.test/v2", caps: all}}},
		{
			name: "server and mirror",
			dirs: map[string]string{"registry.corral.test": `server = "http://127.0.0.1:5001"
[host."http://127.0.0.1:5002"]
  capabilities = ["pull", "resolve"]
`},
			host: "registry.corral.test",
			want: []host{{url: "http://127.0.0.1:5002/v2", caps: pullResolve}, {url: "http://127.0.0.1:5001/v2", caps: all}},
		},
		{
			name: "port directory", dirs: map[string]string{"registry.corral.test_5000_": `server = "https://127.0.0.1:5003"`},
			host: "registry.corral.test:5000", want: []host{{url: "https://127.0.0.1:5003/v2", caps: all}},
		},
		{
			name: "_default", dirs: map[string]string{"_default": `server = "https://127.0.0.1:5004"`},
			host: "registry.corral.test", want: []host{{url: "https://127.0.0.1:5004/v2", caps: all}},
		},
		{
			name: "ca", dirs: map[string]string{"registry.corral.test": "server = \"https://127.0.0.1:5005\"\nca = \"ca.pem\"\n"},
			host: "registry.corral.test", want: []host{{url: "https://127.0.0.1:5005/v2", caps: all, ca: true}},
		},
		{
			name: "skip_verify", dirs: map[string]string{"registry.corral.test": "server = \"https://127.0.0.1:5006\"\nskip_verify = true\n"},
			host: "registry.corral.test", want: []host{{url: "https://127.0.0.1:5006/v2", caps: all, skipVerify: true}},
		},
		{
			name: "certs.d without hosts.toml", dirs: map[string]string{"registry.corral.test": ""},
			host: "registry.corral.test", want: []host{{url: "https://registry.corral.test/v2", caps: all, ca: true}},
		},
		{
			name: "malformed hosts.toml", dirs: map[string]string{"registry.corral.test": `server = "http://127.0.0.1:5007`},
			host: "registry.corral.test", wantErr: "registry.corral.test/hosts.toml",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for dir, hostsToml := range tc.dirs {
				dir = filepath.Join(root, dir)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "ca.crt"), testCA(t), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "ca.pem"), testCA(t), 0o644); err != nil {
					t.Fatal(err)
				}
				if hostsToml != "" {
					if err := os.WriteFile(filepath.Join(dir, "hosts.toml"), []byte(hostsToml), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			hosts, err := Hosts(context.Background(), Options{HostsDir: root, PlainHTTP: tc.plainHTTP})
			if err != nil {
				t.Fatal(err)
			}
			got, err := hosts(tc.host)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("want an InvalidArgument error naming %s, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("want %d hosts, got %+v", len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				gh := host{url: g.Scheme + "://" + g.Host + g.Path, caps: g.Capabilities}
				if tr, ok := g.Client.Transport.(*http.Transport); ok {
					gh.skipVerify, gh.ca = tr.TLSClientConfig.InsecureSkipVerify, tr.TLSClientConfig.RootCAs != nil
				} else {
					gh.fallback = true
				}
				if gh != w {
					t.Errorf("host %d: want %+v, got %+v", i, w, gh)
				}
			}
		})
	}
}

// testCA returns a self-signed CA certificate in PEM.
func testCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "corral test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
