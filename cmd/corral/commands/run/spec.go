package run

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// buildSpec returns the OCI spec of container o.id in namespace ns, modelled on containerd's default
// Linux spec. It fails on a malformed --env, a relative --cwd or a rootfs that is not a directory.
func buildSpec(o options, ns string) (*specs.Spec, error) {
	env, err := commands.MergeEnv([]string{commands.DefaultPath}, o.env)
	if err != nil {
		return nil, err
	}
	cwd := o.cwd
	if cwd == "" {
		cwd = "/"
	}
	if !filepath.IsAbs(cwd) {
		return nil, fmt.Errorf("invalid --cwd %q: must be an absolute path", cwd)
	}
	rootfs, err := filepath.Abs(o.rootfs)
	if err != nil {
		return nil, fmt.Errorf("invalid --rootfs %q: %w", o.rootfs, err)
	}
	if fi, err := os.Stat(rootfs); err != nil {
		return nil, fmt.Errorf("invalid --rootfs: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("invalid --rootfs: %s is not a directory", rootfs)
	}
	args := o.args
	if len(args) == 0 {
		args = []string{"sh"}
	}
	caps := []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
		"CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	}
	return &specs.Spec{
		Version:  specs.Version,
		Hostname: o.id,
		Root:     &specs.Root{Path: rootfs},
		Process: &specs.Process{
			Terminal:        o.tty,
			Args:            args,
			Env:             env,
			Cwd:             cwd,
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
		},
		Linux: &specs.Linux{
			CgroupsPath: "/" + ns + "/" + o.id,
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
	}, nil
}
