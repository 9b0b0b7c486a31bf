package cri

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/config"
)

// fakeResolve accepts what corrald accepts for these tests and lower-cases, as the resolver does.
func fakeResolve(name string) (string, error) {
	switch n := strings.ToLower(name); n {
	case "":
		return "lcr", nil
	case "lcr", "runc", "runsc", "io.containerd.runc.v2", "my-runc":
		return n, nil
	}
	return "", fmt.Errorf("invalid runtime name %q: %w", name, errdefs.ErrInvalidArgument)
}

func TestHandlers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		handlers map[string]string
		request  string
		want     string
		wantErr  string // from New, or else from runtime(request)
	}{
		{name: "empty handler is default_runtime", request: "", want: "lcr"},
		{name: "mapped", handlers: map[string]string{"runc": "runc", "lxc": "LCR"}, request: "lxc", want: "lcr"},
		{name: "shim v2", handlers: map[string]string{"v2": "io.containerd.runc.v2"}, request: "v2", want: "io.containerd.runc.v2"},
		{name: "configured runtime name", handlers: map[string]string{"mine": "my-runc"}, request: "mine", want: "my-runc"},
		{name: "unknown handler", handlers: map[string]string{"runc": "runc"}, request: "kata",
			wantErr: `unknown runtime handler "kata": configured are "" (default_runtime), runc`},
		{name: "unknown runtime at start", handlers: map[string]string{"kata": "kata-qemu"}, wantErr: `invalid cri.runtimes.kata: invalid runtime name "kata-qemu"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			for h, rt := range tc.handlers {
				cfg.CRI.Runtimes[h] = config.CRIRuntime{Runtime: rt}
			}
			s, err := New(Opts{Config: cfg, Resolve: fakeResolve})
			var got string
			if err == nil {
				defer s.Close()
				got, err = s.runtime(tc.request)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("runtime(%q) = %q, %v; want %q", tc.request, got, err, tc.want)
			}
		})
	}
}

func TestUnknownHandlerIsNotFound(t *testing.T) {
	s, err := New(Opts{Config: config.Default(), Resolve: fakeResolve})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.runtime("nope"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("runtime(nope) = %v, want NotFound", err)
	}
}
