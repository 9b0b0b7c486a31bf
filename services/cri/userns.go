package cri

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// idSpace is the number of ids a user namespace can map: 32-bit uids and gids.
const idSpace = 1 << 32

// userns is a pod's user namespace: one uid and one gid mapping, each of container id 0. The zero
// value is the node's user namespace.
type userns struct {
	uids, gids []specs.LinuxIDMapping
}

// on says whether the pod has a user namespace of its own.
func (u userns) on() bool { return len(u.uids) > 0 }

// podUserns reads a pod's user namespace options as containerd's CRI does: none or mode NODE is
// the node's user namespace; mode POD needs exactly one uid and one gid mapping, each mapping
// container id 0 to a host range of 1 or more ids. Anything else is InvalidArgument.
func podUserns(o *runtimeapi.UserNamespace) (userns, error) {
	if o == nil { // GetMode of nil would be POD
		return userns{}, nil
	}
	switch o.GetMode() {
	case runtimeapi.NamespaceMode_NODE:
		if len(o.GetUids())+len(o.GetGids()) > 0 {
			return userns{}, fmt.Errorf("user namespace mode NODE takes no uid or gid mappings, got %d and %d: %w",
				len(o.GetUids()), len(o.GetGids()), errdefs.ErrInvalidArgument)
		}
		return userns{}, nil
	case runtimeapi.NamespaceMode_POD:
	default:
		return userns{}, fmt.Errorf("user namespace mode %s is not supported: accepted are NODE and POD: %w", o.GetMode(), errdefs.ErrInvalidArgument)
	}
	uids, err := idMapping("uid", o.GetUids())
	if err != nil {
		return userns{}, err
	}
	gids, err := idMapping("gid", o.GetGids())
	if err != nil {
		return userns{}, err
	}
	return userns{uids: uids, gids: gids}, nil
}

// idMapping checks the one mapping of kind (uid or gid) a POD user namespace takes.
func idMapping(kind string, ms []*runtimeapi.IDMapping) ([]specs.LinuxIDMapping, error) {
	if len(ms) != 1 {
		return nil, fmt.Errorf("user namespace mode POD takes exactly one %s mapping, got %d: %w", kind, len(ms), errdefs.ErrInvalidArgument)
	}
	m := ms[0]
	switch {
	case m.GetContainerId() != 0:
		return nil, fmt.Errorf("user namespace %s mapping must map container id 0 (root), got container id %d: %w",
			kind, m.GetContainerId(), errdefs.ErrInvalidArgument)
	case m.GetLength() == 0:
		return nil, fmt.Errorf("user namespace %s mapping needs a length of 1 or more: %w", kind, errdefs.ErrInvalidArgument)
	case uint64(m.GetHostId())+uint64(m.GetLength()) > idSpace:
		return nil, fmt.Errorf("user namespace %s mapping of host ids %d+%d ends past the last id %d: %w",
			kind, m.GetHostId(), m.GetLength(), uint64(idSpace-1), errdefs.ErrInvalidArgument)
	}
	return []specs.LinuxIDMapping{{ContainerID: 0, HostID: m.GetHostId(), Size: m.GetLength()}}, nil
}

// containerUserns checks that a container asks for no user namespace but its pod's, whose it joins:
// none, or options that read as the pod's (no options and mode NODE alike).
func containerUserns(pod, c *runtimeapi.UserNamespace) error {
	if c == nil {
		return nil
	}
	got, err := podUserns(c)
	if err != nil {
		return err
	}
	if want, _ := podUserns(pod); !reflect.DeepEqual(got, want) {
		return fmt.Errorf("container user namespace options %v differ from its pod's %v: a container shares its pod's: %w",
			c, pod, errdefs.ErrInvalidArgument)
	}
	return nil
}

// checkUserns refuses a pod user namespace on a runtime that cannot run one, naming the handler,
// and one whose containers' rootfs the pod's root could not reach under bundles.
func (s *Service) checkUserns(u userns, handler, rt string) error {
	if !u.on() {
		return nil
	}
	if !s.features[rt].UserNamespaces {
		return fmt.Errorf("runtime handler %q (runtime %s) does not support user namespaces: use a handler on runc or io.containerd.runc.v2: %w",
			handler, rt, errdefs.ErrInvalidArgument)
	}
	return searchable(s.bundles, u.uids[0].HostID)
}

// searchable checks that every directory from / to dir lets others search it, as the pod's root
// (host uid uid, not the directories' owner) needs to reach a rootfs below dir. Directories not
// made yet are corrald's to make, searchable.
func searchable(dir string, uid uint32) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("failed to check directory %s for user namespaces: %w", d, err)
		}
		if err == nil && fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("directory %s (mode %#o) does not let host uid %d, the pod's root, reach the rootfs under %s: user namespaces need every parent directory searchable by others (chmod o+x): %w",
				d, fi.Mode().Perm(), uid, dir, errdefs.ErrFailedPrecondition)
		}
		if d == "/" {
			return nil
		}
	}
}

// snapshotOpts labels a snapshot with the pod's id mappings, so that its layers are idmapped and
// its upper directory is owned by the pod's root.
func (u userns) snapshotOpts() []snapshots.Opt {
	if !u.on() {
		return nil
	}
	return []snapshots.Opt{containerd.WithUserNSRemapperLabels(u.uids, u.gids)}
}

// specOpts put the process in the pod's user namespace: the one at path, or a new one if path is
// "". Without the pod's own network namespace, whose user namespace would own it, sysfs cannot be
// mounted and the host's /sys is bound read-only instead, as containerd's CRI does.
func (u userns) specOpts(path string, hostNetwork bool) []oci.SpecOpts {
	if !u.on() {
		return nil
	}
	opts := []oci.SpecOpts{oci.WithUserNamespace(u.uids, u.gids),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.UserNamespace, Path: path})}
	if hostNetwork {
		opts = append(opts, oci.WithoutMounts("/sys"), oci.WithMounts([]specs.Mount{{Destination: "/sys", Type: "bind", Source: "/sys",
			Options: []string{"rbind", "ro", "nosuid", "nodev", "noexec"}}}))
	}
	return opts
}
