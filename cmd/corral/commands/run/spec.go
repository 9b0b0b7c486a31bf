package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// buildSpec returns the OCI spec of container o.id: from --rootfs, or from the image config of
// snap's image (entrypoint, cmd, env, working dir, user); then the run flags of f. It fails on a
// rootfs that is not a directory, an image without a command, or a user the rootfs does not have.
func buildSpec(ctx context.Context, o options, f flags, snap *snapshot) (*specs.Spec, error) {
	var (
		s      *specs.Spec
		client oci.Client
		record containers.Container
		opts   []oci.SpecOpts
	)
	if snap == nil {
		rootfs, err := filepath.Abs(o.rootfs)
		if err != nil {
			return nil, fmt.Errorf("invalid --rootfs %q: %w", o.rootfs, err)
		}
		if fi, err := os.Stat(rootfs); err != nil {
			return nil, fmt.Errorf("invalid --rootfs: %w", err)
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("invalid --rootfs: %s is not a directory", rootfs)
		}
		s = baseSpec(o, rootfs)
		s.Process.Env, _ = commands.MergeEnv([]string{commands.DefaultPath}, f.env)
		if len(o.args) == 0 {
			s.Process.Args = []string{"sh"}
		}
	} else {
		s = baseSpec(o, "rootfs") // where the keeper mounts the snapshot, in the bundle
		s.Process.Env = f.env     // the image's replace none of them
		client, record = snap.client, snap.record
		opts = append(opts, func(ctx context.Context, c oci.Client, r *containers.Container, s *oci.Spec) error {
			if err := oci.WithImageConfigArgs(snap.image, o.args)(ctx, c, r, s); err != nil {
				return fmt.Errorf("failed to apply the config of image %s: %w", snap.image.Name(), err)
			}
			if len(s.Process.Args) == 0 {
				return fmt.Errorf("image %s has no entrypoint or cmd: give a CMD: %w", snap.image.Name(), errdefs.ErrInvalidArgument)
			}
			return nil
		})
	}
	if o.cwd != "" {
		opts = append(opts, oci.WithProcessCwd(o.cwd))
	}
	for _, opt := range append(opts, f.opts...) {
		if err := opt(ctx, client, &record, s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// baseSpec returns the spec of container o.id in o.namespace with root path root, modelled on
// containerd's default Linux spec.
func baseSpec(o options, root string) *specs.Spec {
	caps := []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
		"CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	}
	return &specs.Spec{
		Version:  specs.Version,
		Hostname: o.id,
		Root:     &specs.Root{Path: root},
		Process: &specs.Process{
			Terminal:        o.tty,
			Args:            o.args,
			Cwd:             "/",
			User:            specs.User{UID: 0, GID: 0},
			Capabilities:    &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		},
		Linux: &specs.Linux{
			CgroupsPath: "/" + o.namespace + "/" + o.id,
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace},
			},
			Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
				"/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/sys/devices/virtual/powercap", "/proc/scsi",
			},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
}
