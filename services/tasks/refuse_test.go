package tasks

import (
	"context"
	"errors"
	"strings"
	"testing"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"google.golang.org/grpc/metadata"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/runtime"
)

var nsCtx = metadata.NewIncomingContext(context.Background(), metadata.Pairs(api.NamespaceKey, "default"))

func TestCheckpointRefused(t *testing.T) {
	f := &fakeFamily{exits: make(chan runtime.Exit, 1)}
	s, st := newTestService(t, f)
	putContainer(t, st, "c1", goodSpec)
	_, err := s.create(nsCtx, "default", &tasksapi.CreateTaskRequest{ContainerID: "c1",
		Checkpoint: &types.Descriptor{MediaType: "application/vnd.containerd.container.criu.checkpoint.criu.tar", Digest: "sha256:00"}}, nil)
	if !errors.Is(err, errdefs.ErrNotImplemented) || !strings.Contains(err.Error(), "runtime runc") {
		t.Fatalf("create from a checkpoint: %v, want NotImplemented naming runtime runc", err)
	}
	if _, err := s.get("default", "c1"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("refused create left a task: %v", err)
	}
	if _, err := s.create(nsCtx, "default", &tasksapi.CreateTaskRequest{ContainerID: "c1"}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = s.Checkpoint(nsCtx, &tasksapi.CheckpointTaskRequest{ContainerID: "c1"})
	if err := errgrpc.ToNative(err); !errors.Is(err, errdefs.ErrNotImplemented) || !strings.Contains(err.Error(), "runtime runc") {
		t.Fatalf("checkpoint: %v, want NotImplemented naming runtime runc", err)
	}
}

func TestKillSignalRange(t *testing.T) {
	f := &fakeFamily{exits: make(chan runtime.Exit, 1)}
	s, st := newTestService(t, f)
	putContainer(t, st, "c1", goodSpec)
	tk, err := s.create(nsCtx, "default", &tasksapi.CreateTaskRequest{ContainerID: "c1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []uint32{65, 100, 1 << 31, ^uint32(0)} {
		if err := s.kill(nsCtx, tk, runtime.KillOpts{Signal: sig}); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("kill with signal %d: %v, want InvalidArgument", sig, err)
		}
	}
	if len(f.exits) != 0 {
		t.Fatal("an out-of-range signal reached the family")
	}
	if err := s.kill(nsCtx, tk, runtime.KillOpts{Signal: 64}); err != nil {
		t.Fatalf("kill with signal 64: %v", err)
	}
}

func TestMetricsFilters(t *testing.T) {
	f := &fakeFamily{exits: make(chan runtime.Exit, 1)}
	s, st := newTestService(t, f)
	putContainer(t, st, "c1", goodSpec)
	if _, err := s.create(nsCtx, "default", &tasksapi.CreateTaskRequest{ContainerID: "c1"}, nil); err != nil {
		t.Fatal(err)
	}
	// The fake family has no stats: a task the filter selects fails the request with NotImplemented.
	for _, tc := range []struct {
		filters []string
		want    error
	}{
		{[]string{`id==c1`}, errdefs.ErrNotImplemented},
		{[]string{`id==c2`, `runtime==runc`}, errdefs.ErrNotImplemented},
		{[]string{`id==c1,namespace==other`}, nil},
		{[]string{`id==c2`}, nil},
		{[]string{`id==`}, errdefs.ErrInvalidArgument},
	} {
		resp, err := s.Metrics(nsCtx, &tasksapi.MetricsRequest{Filters: tc.filters})
		if err := errgrpc.ToNative(err); (tc.want == nil && err != nil) || !errors.Is(err, tc.want) {
			t.Errorf("metrics %q: %v, want %v", tc.filters, err, tc.want)
		}
		if err == nil && len(resp.Metrics) != 0 {
			t.Errorf("metrics %q: %d metrics, want none", tc.filters, len(resp.Metrics))
		}
	}
}
