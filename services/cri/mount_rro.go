package cri

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/pkg/kernelversion"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/runtime/lcr"
	v2 "github.com/corral-dev/corral/runtime/v2"
)

// rro is how a handler's runtime makes a recursive read-only bind mount (CRI Mount.recursive_read_only).
type rro struct {
	option string // the bind mount's option: "rro" (runc's), "ro" (gVisor's read-only binds are recursive); "" for none
	why    string // why there is none
}

// rroSupport finds how runtime rt makes a recursive read-only mount: runc-compatible runtimes
// (shim v1, and shim v2 io.containerd.runc.*, whose shim runs runc from $PATH) where their
// `features` lists "rro" and the kernel has mount_setattr (5.12); gVisor, whose read-only bind
// is read-only all the way down; never LXC. lookup finds a shim v1 runtime's binary.
func rroSupport(ctx context.Context, rt string, lookup func(string) (runtime.Family, runtime.Binary, error), timeout time.Duration) rro {
	var bin string
	switch {
	case lcr.Detect(rt):
		return rro{why: "LXC 5 remounts only the top mount of a bind read-only"}
	case v2.IsV2Name(rt) && strings.HasPrefix(rt, "io.containerd.runc."):
		bin = "runc"
	case v2.IsV2Name(rt):
		return rro{why: "corrald cannot ask shim v2 " + v2.BinaryName(rt) + " for its runtime's features"}
	default:
		_, b, err := lookup(rt)
		if err != nil {
			return rro{why: err.Error()}
		}
		bin = b.Path
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "features").Output()
	if err != nil {
		if v, _ := exec.CommandContext(ctx, bin, "--version").Output(); strings.HasPrefix(string(v), "runsc ") {
			return rro{option: "ro"}
		}
		return rro{why: fmt.Sprintf("%s features: %v", bin, err)}
	}
	var f features.Features
	if err := json.Unmarshal(out, &f); err != nil {
		return rro{why: fmt.Sprintf("failed to parse %s features: %v", bin, err)}
	}
	if !slices.Contains(f.MountOptions, "rro") {
		return rro{why: bin + " features lists no rro mount option"}
	}
	if ok, err := kernelversion.GreaterEqualThan(kernelversion.KernelVersion{Kernel: 5, Major: 12}); !ok || err != nil {
		return rro{why: "the kernel lacks mount_setattr (Linux 5.12)"}
	}
	return rro{option: "rro"}
}

// readonlyOption is the option a bind mount of m gets for its read-only or read-write state on a
// handler whose runtime rt makes recursive read-only mounts as r says. A recursive read-only mount
// must be read-only and of private propagation, as containerd requires.
func readonlyOption(m *runtimeapi.Mount, handler, rt string, r rro) (string, error) {
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
	case r.option == "":
		return "", fmt.Errorf("runtime handler %q (runtime %s) has no recursive read-only mounts, asked for host path %s: %s: %w",
			handler, rt, m.GetHostPath(), cmp.Or(r.why, "corrald did not ask the runtime"), errdefs.ErrNotImplemented)
	}
	return r.option, nil
}
