package images

import (
	"errors"
	"testing"

	"github.com/containerd/errdefs"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ ref, want string }{
		{"busybox", "docker.io/library/busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36"},
		{"corral/tool", "docker.io/corral/tool:latest"},
		{"localhost:5000/img/busybox", "localhost:5000/img/busybox:latest"},
		{"127.0.0.1:5000/img/busybox:1", "127.0.0.1:5000/img/busybox:1"},
		{"registry.corral.test/img@sha256:" + sha, "registry.corral.test/img@sha256:" + sha},
		{"Busybox", ""},
		{"busybox:", ""},
		{"", ""},
	} {
		got, err := normalize(tc.ref)
		if tc.want == "" {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%q: want InvalidArgument, got %q, %v", tc.ref, got, err)
			}
		} else if err != nil || got != tc.want {
			t.Errorf("%q: want %q, got %q, %v", tc.ref, tc.want, got, err)
		}
	}
}

const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestCredentials(t *testing.T) {
	for _, tc := range []struct{ user, name, password string }{
		{"alice:s3cret", "alice", "s3cret"},
		{"alice:pass:with:colons", "alice", "pass:with:colons"},
		{"alice:", "alice", ""},
	} {
		name, password, err := credentials(tc.user)
		if err != nil || name != tc.name || password != tc.password {
			t.Errorf("%q: want %q %q, got %q %q %v", tc.user, tc.name, tc.password, name, password, err)
		}
	}
}
