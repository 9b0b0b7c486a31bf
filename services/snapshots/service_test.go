package snapshots

import (
	"context"
	"errors"
	"testing"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/plugins/snapshots/native"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"google.golang.org/grpc/metadata"

	"github.com/corral-dev/corral/api"
)

func TestDispatch(t *testing.T) {
	sn, err := native.NewSnapshotter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	s := New(map[string]snapshots.Snapshotter{"native": sn})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(api.NamespaceKey, "ns"))
	if _, err := s.Prepare(ctx, &snapshotsapi.PrepareSnapshotRequest{Snapshotter: "native", Key: "k"}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stat(ctx, &snapshotsapi.StatSnapshotRequest{Snapshotter: "native", Key: "k"})
	if err != nil || st.Info.Kind != snapshotsapi.Kind_ACTIVE {
		t.Fatalf("stat of a prepared snapshot: %v, %v", st, err)
	}
	for name, tc := range map[string]struct {
		ctx  context.Context
		sn   string
		want error
	}{
		"unknown snapshotter": {ctx, "zfs", errdefs.ErrNotFound},
		"no namespace":        {context.Background(), "native", errdefs.ErrFailedPrecondition},
	} {
		_, err := s.Stat(tc.ctx, &snapshotsapi.StatSnapshotRequest{Snapshotter: tc.sn, Key: "k"})
		if !errors.Is(errgrpc.ToNative(err), tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}
