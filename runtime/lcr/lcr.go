// Package lcr is the runtime family for the name "lcr": LXC containers driven through the engine layer.
package lcr

import (
	"strings"

	"github.com/corral-dev/corral/runtime"
)

// Name is the only runtime name this family runs.
const Name = "lcr"

// Runtime runs lcr containers. Its operations arrive with the engine layer; until then each returns
// errdefs.ErrNotImplemented.
type Runtime struct {
	runtime.Unsupported
}

var _ runtime.Ops = (*Runtime)(nil)

// New returns the lcr family.
func New() *Runtime {
	return &Runtime{Unsupported: runtime.Unsupported{Family: "lcr"}}
}

// Detect accepts exactly "lcr", in any case.
func (*Runtime) Detect(name string) bool { return strings.EqualFold(name, Name) }
