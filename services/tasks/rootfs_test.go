package tasks

import (
	"errors"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckRoot(t *testing.T) {
	const bundle = "/b/ns/id"
	for _, tc := range []struct {
		root   *specs.Root
		mounts bool
		ok     bool
	}{
		{&specs.Root{Path: "/srv/rootfs"}, false, true},
		{&specs.Root{Path: "rootfs"}, false, false},
		{nil, false, false},
		{&specs.Root{Path: "rootfs"}, true, true}, // what ctr run IMAGE sends
		{&specs.Root{Path: bundle + "/rootfs"}, true, true},
		{&specs.Root{Path: "/srv/rootfs"}, true, false},
		{&specs.Root{Path: "rootfs/../x"}, true, false},
		{nil, true, false},
	} {
		err := checkRoot(bundle, tc.root, tc.mounts)
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("root %+v, mounts %v: got %v", tc.root, tc.mounts, err)
		}
	}
}
