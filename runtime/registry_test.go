package runtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/runtime/lcr"
	v1 "github.com/corral-dev/corral/runtime/v1"
	v2 "github.com/corral-dev/corral/runtime/v2"
)

func registry() *runtime.Registry {
	shims := v2.New(v2.Opts{})
	return runtime.NewRegistry(
		runtime.Family{Name: "lcr", Ops: lcr.New(shims, nil, v1.Opts{})},
		runtime.Family{Name: "shim v2", Ops: shims.ShimV2()},
		runtime.Family{Name: "shim v1", Ops: v1.New(shims, v1.Opts{})},
	)
}

func TestRegistryQueryOrder(t *testing.T) {
	r := registry()
	for _, tc := range []struct{ name, family string }{
		{"lcr", "lcr"},
		{"LCR", "lcr"},
		{"Lcr", "lcr"},
		{"io.containerd.runc.v2", "shim v2"},
		{"io.containerd.kata.v2", "shim v2"},
		{"io.containerd.runc", "shim v1"},
		{"io.containerd.runc.v2.x", "shim v1"},
		{"io.containerd..v2", "shim v1"},
		{"io.containerd.runc.", "shim v1"},
		{"io.other.runc.v2", "shim v1"},
		{"runc", "shim v1"},
		{"runsc", "shim v1"},
		{"my-runc", "shim v1"},
	} {
		f, err := r.Query(tc.name)
		if err != nil {
			t.Errorf("Query(%q): %v", tc.name, err)
			continue
		}
		if f.Name != tc.family {
			t.Errorf("Query(%q) = %s, want %s", tc.name, f.Name, tc.family)
		}
	}
}

func TestRegistryQueryNone(t *testing.T) {
	r := runtime.NewRegistry(runtime.Family{Name: "lcr", Ops: lcr.New(v2.New(v2.Opts{}), nil, v1.Opts{})})
	if _, err := r.Query("runc"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("got %v, want NotFound", err)
	}
	if got := registry().Families(); len(got) != 3 || got[0].Name != "lcr" || got[2].Name != "shim v1" {
		t.Fatalf("Families() = %+v", got)
	}
}

func TestUnsupported(t *testing.T) {
	ctx := context.Background()
	u := runtime.Unsupported{Family: "fam-x"}
	var tk runtime.Task
	for op, call := range map[string]func() error{
		"create":      func() error { _, err := u.Create(ctx, runtime.CreateOpts{}); return err },
		"start":       func() error { _, err := u.Start(ctx, tk, ""); return err },
		"kill":        func() error { return u.Kill(ctx, tk, runtime.KillOpts{}) },
		"wait":        func() error { _, err := u.Wait(ctx, tk, ""); return err },
		"delete":      func() error { return u.Delete(ctx, tk) },
		"status":      func() error { _, err := u.Status(ctx, tk); return err },
		"pids":        func() error { _, err := u.Pids(ctx, tk); return err },
		"pause":       func() error { return u.Pause(ctx, tk) },
		"resume":      func() error { return u.Resume(ctx, tk) },
		"update":      func() error { return u.Update(ctx, tk, nil, nil) },
		"stats":       func() error { _, err := u.Stats(ctx, tk); return err },
		"exec":        func() error { return u.Exec(ctx, runtime.ExecOpts{}) },
		"delete-exec": func() error { return u.DeleteExec(ctx, tk, "x") },
		"resize":      func() error { return u.Resize(ctx, tk, runtime.ResizeOpts{}) },
		"close-io":    func() error { return u.CloseIO(ctx, tk, "") },
	} {
		err := call()
		if !errors.Is(err, errdefs.ErrNotImplemented) {
			t.Errorf("%s: got %v, want NotImplemented", op, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "fam-x") || !strings.Contains(msg, " "+op+":") {
			t.Errorf("%s: message %q does not name the family and the op", op, msg)
		}
	}
}
