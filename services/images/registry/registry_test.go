package registry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/log"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestMain(m *testing.M) {
	_ = log.SetLevel("warn") // containerd's resolver logs each failed request at info
	os.Exit(m.Run())
}

// TestNewResolver resolves a reference on a loopback registry that wants basic auth, with the
// credentials from each source.
func TestNewResolver(t *testing.T) {
	t.Setenv("DOCKER_AUTH_CONFIG", "")
	manifest := []byte(`{"schemaVersion":2}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "pw" {
			w.Header().Set("WWW-Authenticate", `Basic realm="corral test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/v2/img/manifests/1" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
		w.Header().Set("Docker-Content-Digest", digest.FromBytes(manifest).String())
		w.Write(manifest)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	authFile := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(authFile, []byte(`{"auths":{"`+host+`":{"username":"alice","password":"pw"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "no credentials", opts: Options{PlainHTTP: true}, wantErr: "authoriz"},
		{name: "user", opts: Options{PlainHTTP: true, Username: "alice", Password: "pw"}},
		{name: "wrong password", opts: Options{PlainHTTP: true, Username: "alice", Password: "no"}, wantErr: "authoriz"},
		{name: "auth file", opts: Options{PlainHTTP: true, AuthFile: authFile}},
		{name: "user over auth file", opts: Options{PlainHTTP: true, AuthFile: authFile, Username: "alice", Password: "no"}, wantErr: "authoriz"},
		{name: "missing auth file", opts: Options{PlainHTTP: true, AuthFile: authFile + ".missing"}, wantErr: "authoriz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewResolver(context.Background(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			_, desc, err := r.Resolve(context.Background(), host+"/img:1")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want %v, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if desc.Digest != digest.FromBytes(manifest) {
				t.Fatalf("resolved %s", desc.Digest)
			}
		})
	}
}
