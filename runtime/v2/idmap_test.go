package v2

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"github.com/containerd/containerd/api/types"
	"github.com/containerd/errdefs"
)

func TestCommonDir(t *testing.T) {
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{[]string{"/s/snapshots/12/fs"}, "/s/snapshots/12"},
		{[]string{"/s/snapshots/12/fs", "/s/snapshots/13/fs"}, "/s/snapshots"},
		{[]string{"/s/snapshots/12/fs", "/s/snapshots/1/fs"}, "/s/snapshots"},
		{[]string{"/a/fs", "/b/fs"}, "/"},
	} {
		if got := commonDir(tc.paths); got != tc.want {
			t.Errorf("commonDir(%v) = %q, want %q", tc.paths, got, tc.want)
		}
	}
}

func TestIdmapLayersRefuses(t *testing.T) {
	plain := []*types.Mount{{Type: "overlay", Source: "overlay", Options: []string{"lowerdir=/s/1/fs", "upperdir=/s/2/fs", "workdir=/s/2/work"}}}
	got, done, err := idmapLayers(t.TempDir(), plain)
	if err != nil || !reflect.DeepEqual(got, plain) {
		t.Fatalf("mounts without id maps: got %v, %v; want them unchanged", got, err)
	}
	done()
	for name, ms := range map[string][]*types.Mount{
		"bind":        {{Type: "bind", Source: "/s/1/fs", Options: []string{"rbind", "uidmap=0:1000:10", "gidmap=0:1000:10"}}},
		"uidmap only": {{Type: "overlay", Source: "overlay", Options: []string{"lowerdir=/s/1/fs", "uidmap=0:1000:10"}}},
		"no lowerdir": {{Type: "overlay", Source: "overlay", Options: []string{"upperdir=/s/1/fs", "uidmap=0:1000:10", "gidmap=0:1000:10"}}},
		"no common":   {{Type: "overlay", Source: "overlay", Options: []string{"lowerdir=/a/fs:/b/fs", "uidmap=0:1000:10", "gidmap=0:1000:10"}}},
	} {
		if _, _, err := idmapLayers(t.TempDir(), ms); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: error %v, want InvalidArgument", name, err)
		}
	}
}

// TestIdmapLayers idmaps two layers owned by root for host uid and gid 1000 and checks that they
// are seen owned by 1000 through the rewritten lowerdir, until done.
func TestIdmapLayers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: idmapped mounts")
	}
	snaps, bundle := t.TempDir(), t.TempDir()
	for _, l := range []string{"1", "2"} {
		if err := os.MkdirAll(filepath.Join(snaps, l, "fs"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(snaps, l, "fs", "f"+l), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ms := []*types.Mount{{Type: "overlay", Source: "overlay", Options: []string{
		"index=off", "lowerdir=" + filepath.Join(snaps, "2", "fs") + ":" + filepath.Join(snaps, "1", "fs"),
		"uidmap=0:1000:65536", "gidmap=0:1000:65536"}}}
	got, done, err := idmapLayers(bundle, ms)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(bundle, idmappedDir)
	want := []string{"index=off", "lowerdir=" + filepath.Join(dir, "2", "fs") + ":" + filepath.Join(dir, "1", "fs")}
	if !reflect.DeepEqual(got[0].Options, want) {
		done()
		t.Fatalf("options %v, want %v", got[0].Options, want)
	}
	for _, f := range []string{"2/fs/f2", "1/fs/f1"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Error(err)
			continue
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 1000 || st.Gid != 1000 {
			t.Errorf("%s is owned by %d:%d through the idmapped layers, want 1000:1000", f, st.Uid, st.Gid)
		}
	}
	done()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s is left after done: %v", dir, err)
	}
}
