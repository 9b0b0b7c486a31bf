package runtime

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// Family is one entry of the registry: a set of operations, or the reason it cannot run here.
type Family struct {
	// Name is how users and errors call the family: "lcr", "shim v2" or "shim v1".
	Name string
	Ops  Ops
	// Unavailable, when set, says why this family cannot run containers on this host.
	Unavailable error
}

// Registry holds the families in detect order. It is built once, in daemon/.
type Registry struct {
	families []Family
}

// NewRegistry returns a registry that queries families in the given order.
func NewRegistry(families ...Family) *Registry {
	return &Registry{families: families}
}

// Query returns the first family whose Detect accepts name.
func (r *Registry) Query(name string) (Family, error) {
	for _, f := range r.families {
		if f.Ops.Detect(name) {
			return f, nil
		}
	}
	return Family{}, fmt.Errorf("no runtime family runs %q: %w", name, errdefs.ErrNotFound)
}

// Families lists the families in detect order.
func (r *Registry) Families() []Family {
	return append([]Family(nil), r.families...)
}
