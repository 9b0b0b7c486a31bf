package cri

import (
	"cmp"
	"fmt"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/corral-dev/corral/runtime"
)

// readonlyOption is the option a bind mount of m gets for its read-only or read-write state on a
// handler whose runtime rt has features f. A recursive read-only mount
// must be read-only and of private propagation, as containerd requires.
func readonlyOption(m *runtimeapi.Mount, handler, rt string, f runtime.Features) (string, error) {
	switch {
	case !m.GetRecursiveReadOnly() && m.GetReadonly():
		return "ro", nil
	case !m.GetRecursiveReadOnly():
		return "rw", nil
	case !m.GetReadonly():
		return "", fmt.Errorf("recursive read-only mount of host path %s needs readonly true: %w", m.GetHostPath(), errdefs.ErrInvalidArgument)
	case m.GetPropagation() != runtimeapi.MountPropagation_PROPAGATION_PRIVATE:
		return "", fmt.Errorf("recursive read-only mount of host path %s needs propagation PROPAGATION_PRIVATE, not %s: %w",
			m.GetHostPath(), m.GetPropagation(), errdefs.ErrInvalidArgument)
	case f.RecursiveReadOnly == "":
		return "", fmt.Errorf("runtime handler %q (runtime %s) has no recursive read-only mounts, asked for host path %s: %s: %w",
			handler, rt, m.GetHostPath(), cmp.Or(f.NoRecursiveReadOnly, "corrald did not ask the runtime"), errdefs.ErrNotImplemented)
	}
	return f.RecursiveReadOnly, nil
}
