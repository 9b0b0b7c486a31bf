package cri

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
)

func TestImageSubPath(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"etc/ssl", "usr"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "passwd"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{"lib": "usr", "out": "/tmp", "up": "../.."} {
		if err := os.Symlink(to, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		sub  string
		want string
		err  func(error) bool
	}{
		{"etc", filepath.Join(root, "etc"), nil},
		{"etc/ssl/", filepath.Join(root, "etc/ssl"), nil},
		{"/etc", "", errdefs.IsInvalidArgument},
		{"lib", filepath.Join(root, "lib"), nil},
		{"nope", "", errdefs.IsNotFound},
		{"etc/passwd", "", errdefs.IsInvalidArgument},
		{"../..", "", errdefs.IsInvalidArgument},
		{"out", "", errdefs.IsInvalidArgument},
		{"up/x", "", errdefs.IsInvalidArgument},
	} {
		got, err := imageSubPath(root, tc.sub)
		if tc.err != nil {
			if err == nil || !tc.err(err) {
				t.Errorf("imageSubPath(%q) = %q, %v: want an error of the other class", tc.sub, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("imageSubPath(%q) = %q, %v, want %q", tc.sub, got, err, tc.want)
		}
	}
}
