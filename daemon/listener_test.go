package daemon

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
)

func TestListen(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, path string)
		wantErr error // nil: listen succeeds
	}{
		{name: "missing", prepare: func(*testing.T, string) {}},
		{name: "stale socket", prepare: func(t *testing.T, path string) {
			ln, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			ln.(*net.UnixListener).SetUnlinkOnClose(false)
			ln.Close()
		}},
		{name: "live socket", wantErr: errdefs.ErrAlreadyExists, prepare: func(t *testing.T, path string) {
			ln, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
		}},
		{name: "regular file", wantErr: errdefs.ErrAlreadyExists, prepare: func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chmod(dir, os.ModeSticky|0o777); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "d.sock")
			tc.prepare(t, path)
			ln, err := listen(path, 0o660)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("listen: %v, want %v", err, tc.wantErr)
				}
				if _, err := os.Lstat(path); err != nil {
					t.Errorf("listen removed what was at %s: %v", path, err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				ln.Close()
			}
			if fi, err := os.Stat(dir); err != nil || fi.Mode() != os.ModeDir|os.ModeSticky|0o777 {
				t.Errorf("directory mode changed to %v (%v)", fi.Mode(), err)
			}
		})
	}
}

func TestListenCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "d.sock")
	ln, err := listen(path, 0o660)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for p, want := range map[string]os.FileMode{path: 0o660, filepath.Dir(path): socketDirMode, filepath.Dir(filepath.Dir(path)): socketDirMode} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %o", p, fi.Mode().Perm(), err, want)
		}
	}
}

func TestLockSocket(t *testing.T) {
	address := filepath.Join(t.TempDir(), "d.sock")
	first, err := lockSocket(address)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockSocket(address); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("second lock: %v, want AlreadyExists", err)
	}
	first.Close()
	again, err := lockSocket(address)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Close()
}
