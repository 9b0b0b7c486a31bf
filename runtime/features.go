package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/containerd/containerd/v2/pkg/kernelversion"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// Features are what a runtime gives containers beyond what every family does, for callers that
// advertise them (the CRI's Status) or shape specs by them. Each family's Ops.Features answers.
type Features struct {
	// UserNamespaces: a container can run in a user namespace whose root owns its rootfs
	// (idmapped image layers).
	UserNamespaces bool
	// RecursiveReadOnly is the bind mount option that makes a mount read-only with every mount
	// below it: "rro" (runc's), "ro" where read-only binds are recursive already (gVisor's); ""
	// for none, and NoRecursiveReadOnly then says why.
	RecursiveReadOnly, NoRecursiveReadOnly string
}

// RuncFeatures asks the runc-compatible binary bin how it makes recursive read-only mounts: "rro"
// where `bin features` lists it and the kernel has mount_setattr (5.12); "ro" for gVisor, which has
// no `features` (and refuses "rro") but whose read-only binds are read-only all the way down.
func RuncFeatures(ctx context.Context, bin string) Features {
	out, err := exec.CommandContext(ctx, bin, "features").Output()
	if err != nil {
		if v, _ := exec.CommandContext(ctx, bin, "--version").Output(); strings.HasPrefix(string(v), "runsc ") {
			return Features{RecursiveReadOnly: "ro"}
		}
		return Features{NoRecursiveReadOnly: fmt.Sprintf("%s features: %v", bin, err)}
	}
	var f features.Features
	if err := json.Unmarshal(out, &f); err != nil {
		return Features{NoRecursiveReadOnly: fmt.Sprintf("failed to parse %s features: %v", bin, err)}
	}
	if !slices.Contains(f.MountOptions, "rro") {
		return Features{NoRecursiveReadOnly: bin + " features lists no rro mount option"}
	}
	if ok, err := kernelversion.GreaterEqualThan(kernelversion.KernelVersion{Kernel: 5, Major: 12}); !ok || err != nil {
		return Features{NoRecursiveReadOnly: "the kernel lacks mount_setattr (Linux 5.12)"}
	}
	return Features{RecursiveReadOnly: "rro"}
}
