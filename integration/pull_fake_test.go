package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// fakeRegistry serves, on a free loopback port, repository img's manifests by tag (tags gives their
// digests) and by digest, and its blobs by digest, from memory, whatever their bytes: a
// fault-injecting stand-in for a registry. It returns the registry's host:port.
func fakeRegistry(t *testing.T, blobs ociBlobs, tags map[string]digest.Digest) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/v2/")
		if path == "" {
			return
		}
		kind, ref, ok := strings.Cut(strings.TrimPrefix(path, "img/"), "/")
		d, tagged := tags[ref]
		if !tagged {
			d = digest.Digest(ref)
		}
		b, found := blobs[d]
		if !ok || !found || (kind != "manifests" && kind != "blobs") {
			http.Error(w, `{"errors":[{"code":"NOT_FOUND"}]}`, http.StatusNotFound)
			return
		}
		if kind == "manifests" {
			var m struct{ MediaType string }
			_ = json.Unmarshal(b, &m)
			w.Header().Set("Content-Type", m.MediaType)
		}
		w.Header().Set("Docker-Content-Digest", d.String())
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		if r.Method != http.MethodHead {
			w.Write(b)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
