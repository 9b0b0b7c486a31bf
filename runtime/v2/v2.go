// Package v2 is the shim v2 runtime family: io.containerd.<rt>.<ver> names run by
// containerd-shim-<rt>-<ver> binaries over ttrpc.
package v2

import (
	"strings"

	"github.com/corral-dev/corral/runtime"
)

// Runtime runs shim v2 containers. Its operations arrive with the shim manager; until then each
// returns errdefs.ErrNotImplemented.
type Runtime struct {
	runtime.Unsupported
}

var _ runtime.Ops = (*Runtime)(nil)

// New returns the shim v2 family.
func New() *Runtime {
	return &Runtime{Unsupported: runtime.Unsupported{Family: "shim v2"}}
}

// Detect accepts io.containerd.<rt>.<ver>: exactly four non-empty dot-separated parts.
func (*Runtime) Detect(name string) bool { return IsV2Name(name) }

// IsV2Name reports whether name is io.containerd.<rt>.<ver> with non-empty rt and ver.
func IsV2Name(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) != 4 || parts[0] != "io" || parts[1] != "containerd" {
		return false
	}
	return parts[2] != "" && parts[3] != ""
}

// BinaryName is the shim binary for a v2 name: io.containerd.runc.v2 → containerd-shim-runc-v2.
func BinaryName(name string) string {
	parts := strings.Split(name, ".")
	return "containerd-shim-" + parts[2] + "-" + parts[3]
}
