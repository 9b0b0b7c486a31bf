package v2

import (
	"context"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/runtime"
)

// TestShimV2RefusesReopenLog: containerd's shims are never sent corral-shim's annotation.
func TestShimV2RefusesReopenLog(t *testing.T) {
	f := (&Runtime{}).ShimV2()
	task := runtime.Task{ID: "c1", Runtime: runtime.Binary{Name: "io.containerd.runc.v2"}}
	err := f.Update(context.Background(), task, nil, map[string]string{keeper.AnnotationReopenLog: "true"})
	if !errdefs.IsNotImplemented(err) {
		t.Fatalf("reopen on shim v2: %v, want NotImplemented", err)
	}
}
