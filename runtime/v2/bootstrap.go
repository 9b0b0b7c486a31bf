package v2

// The `start` bootstrap across containerd releases: what a shim reads on stdin and how its answer is
// read.

import (
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	bootapi "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/runtime"
)

// Module paths of containerd 1.x and 2.x, as Go build information names them.
const (
	containerd1 = "github.com/containerd/containerd"
	containerd2 = "github.com/containerd/containerd/v2"
)

// bootstrap is the JSON answer of 2.0–2.2 shims (and of some 1.7 ones) to `start`.
type bootstrap struct {
	Version  int    `json:"version"`
	Address  string `json:"address"`
	Protocol string `json:"protocol"`
}

// startInput is what `start` reads on stdin. Shims built on containerd 1.x read it as the runtime
// options Any and fail on any other message, and containerd still sends that Any to *-runc-v1 and
// *-runhcs-v1 binaries. Every other shim gets BootstrapParams with the options as an extension:
// 2.4 shims require it, 2.3 shims prefer it and 2.0–2.2 shims ignore what they cannot read.
func (r *Runtime) startInput(t runtime.Task, opts *anypb.Any) ([]byte, error) {
	if legacyStdin(t.Runtime.Path) {
		if opts == nil {
			return nil, nil
		}
		return proto.Marshal(opts)
	}
	// LogLevel stays INFO: corrald passes no -debug either, so no shim opens a debug socket.
	p := &bootapi.BootstrapParams{
		InstanceID:             t.ID,
		Namespace:              t.Namespace,
		ContainerdTtrpcAddress: r.ttrpcAddress,
		ContainerdGrpcAddress:  r.grpcAddress,
		ContainerdBinary:       r.self,
	}
	if opts != nil {
		p.Extensions = []*bootapi.Extension{{Value: opts}}
	}
	return proto.Marshal(p)
}

// legacyStdin reports whether the shim binary wants the runtime options Any on stdin.
func legacyStdin(binary string) bool {
	name := filepath.Base(binary)
	if strings.Contains(name, "shim-runc-v1") || strings.Contains(name, "shim-runhcs-v1") {
		return true
	}
	bi, err := buildinfo.ReadFile(binary)
	return err == nil && builtOnContainerd1(bi)
}

// builtOnContainerd1 reports whether a Go binary is containerd 1.x's own command or links its shim
// library. Distributions build 1.x in GOPATH mode, which records the package path but no modules.
func builtOnContainerd1(bi *buildinfo.BuildInfo) bool {
	modules := map[string]bool{bi.Main.Path: true}
	for _, d := range bi.Deps {
		modules[d.Path] = true
	}
	if modules[containerd2] {
		return false
	}
	return modules[containerd1] || strings.HasPrefix(bi.Path, containerd1+"/cmd/")
}

// parseStart reads the answer of `start` in containerd's order: a protobuf BootstrapResult (2.3+),
// then JSON with a version of at least 2 (2.0–2.2), then a plain ttrpc address (1.6, 1.7).
func parseStart(out []byte) (address string, version int, _ error) {
	var res bootapi.BootstrapResult
	if err := proto.Unmarshal(out, &res); err == nil && res.Address != "" {
		return checkAnswer(res.Address, int(res.Version), res.Protocol)
	}
	s := strings.TrimSpace(string(out))
	var j bootstrap
	if err := json.Unmarshal([]byte(s), &j); err == nil && j.Version >= 2 {
		return checkAnswer(j.Address, j.Version, j.Protocol)
	}
	if !plainAddress(s) {
		return "", 0, fmt.Errorf("failed to parse shim start answer %q: %w", truncate(s, 80), errdefs.ErrUnknown)
	}
	return s, 2, nil
}

// checkAnswer accepts a bootstrap answer corrald can use: ttrpc, task API 2 or 3.
func checkAnswer(address string, version int, protocol string) (string, int, error) {
	switch {
	case address == "":
		return "", 0, fmt.Errorf("shim start answer has no address: %w", errdefs.ErrUnknown)
	case protocol != "" && protocol != "ttrpc":
		return "", 0, fmt.Errorf("shim at %s speaks %s, only ttrpc is supported: %w", address, protocol, errdefs.ErrNotImplemented)
	case version != 2 && version != 3:
		return "", 0, fmt.Errorf("shim at %s speaks task API version %d, only 2 and 3 are supported: %w", address, version, errdefs.ErrNotImplemented)
	}
	return address, version, nil
}

// plainAddress reports whether s can be a legacy answer: one printable word, not JSON.
func plainAddress(s string) bool {
	if s == "" || strings.HasPrefix(s, "{") {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
