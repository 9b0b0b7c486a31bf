package cri

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/core/mount"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/corral-dev/corral/runtime"
)

// CRI annotations on a container's spec, which runtimes such as runsc read to join the pod.
const (
	annContainerName = "io.kubernetes.cri.container-name"
	annImageName     = "io.kubernetes.cri.image-name"
)

// specInput is what a container's spec is made of.
type specInput struct {
	id       string
	cfg      *runtimeapi.ContainerConfig
	pod      *runtimeapi.PodSandboxConfig
	podID    string
	podPID   uint32           // the pause process, whose IPC, UTS and PID namespaces the container joins
	netns    string           // the pod's network namespace; "" on the host network
	podDir   string           // the sandbox's hostname, hosts and resolv.conf
	handler  string           // the pod's runtime handler
	runtime  string           // the runtime it maps to
	features runtime.Features // what that runtime gives containers
	userns   userns           // the pod's user namespace, the pause process's, that the container joins
	image    ocispec.ImageConfig
	ownOOM   int  // corrald's oom_score_adj, the lowest a container gets
	seccomp  bool // the host has seccomp
	apparmor bool // the host has AppArmor
}

// containerSpec is a container's spec over containerd's default: the image's config under the CRI
// config's command, args, env and working dir; the pod's namespaces and files; mounts, devices,
// resources and security context.
func containerSpec(in specInput) ([]oci.SpecOpts, error) {
	cfg := in.cfg
	md := in.pod.GetMetadata()
	opts := []oci.SpecOpts{
		oci.WithProcessArgs(processArgs(cfg, in.image)...),
		oci.WithDefaultPathEnv,
		oci.WithEnv(in.image.Env),
		oci.WithEnv(envs(cfg)),
		oci.WithAnnotations(map[string]string{
			annContainerType: "container", annSandboxID: in.podID, annContainerName: cfg.GetMetadata().GetName(),
			annImageName: cfg.GetImage().GetImage(), annSandboxName: md.GetName(), annSandboxNamespace: md.GetNamespace(),
			annSandboxUID: md.GetUid(),
		}),
	}
	if wd := cfg.GetWorkingDir(); wd != "" {
		opts = append(opts, oci.WithProcessCwd(wd))
	} else if in.image.WorkingDir != "" {
		opts = append(opts, oci.WithProcessCwd(in.image.WorkingDir))
	}
	if cfg.GetTty() {
		opts = append(opts, oci.WithTTY)
	}
	opts = append(opts, podNamespaces(in)...)
	mounts, err := containerMounts(in)
	if err != nil {
		return nil, err
	}
	opts = append(opts, oci.WithMounts(mounts), withRootfsPropagation(cfg.GetMounts()))
	for _, d := range cfg.GetDevices() {
		perms := d.GetPermissions()
		if perms == "" {
			perms = "rwm"
		}
		opts = append(opts, oci.WithDevices(d.GetHostPath(), d.GetContainerPath(), perms))
	}
	if parent := in.pod.GetLinux().GetCgroupParent(); parent != "" {
		opts = append(opts, oci.WithCgroup(filepath.Join(parent, in.id)))
	}
	opts = append(opts, withResources(cfg.GetLinux().GetResources(), in.ownOOM))
	sec, err := securityOpts(cfg.GetLinux().GetSecurityContext(), in.image.User, in.seccomp, in.apparmor)
	if err != nil {
		return nil, err
	}
	return append(opts, sec...), nil
}

// processArgs merges the CRI command and args with the image's entrypoint and cmd, as Docker and
// containerd do: a command replaces both; args alone replace the cmd.
func processArgs(cfg *runtimeapi.ContainerConfig, img ocispec.ImageConfig) []string {
	cmd, args := cfg.GetCommand(), cfg.GetArgs()
	if len(cmd) == 0 {
		cmd = img.Entrypoint
		if len(args) == 0 {
			args = img.Cmd
		}
	}
	return append(append([]string{}, cmd...), args...)
}

// envs is the CRI config's environment as KEY=VALUE.
func envs(cfg *runtimeapi.ContainerConfig) []string {
	out := make([]string, 0, len(cfg.GetEnvs()))
	for _, kv := range cfg.GetEnvs() {
		out = append(out, kv.GetKey()+"="+string(kv.GetValue()))
	}
	return out
}

// podNamespaces makes the container join its pod's network (its namespace file, or the host's),
// IPC and UTS namespaces (the pause process's, or the host's IPC), its user namespace if it has
// one, and the PID namespace its namespace options ask for: the pod's, its own or the host's.
func podNamespaces(in specInput) []oci.SpecOpts {
	podNS := in.pod.GetLinux().GetSecurityContext().GetNamespaceOptions()
	proc := func(t string) string { return fmt.Sprintf("/proc/%d/ns/%s", in.podPID, t) }
	var opts []oci.SpecOpts
	if in.netns == "" {
		opts = append(opts, oci.WithHostNamespace(specs.NetworkNamespace), oci.WithHostNamespace(specs.UTSNamespace))
	} else {
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: in.netns}),
			oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.UTSNamespace, Path: proc("uts")}))
	}
	if podNS.GetIpc() == runtimeapi.NamespaceMode_NODE {
		opts = append(opts, oci.WithHostNamespace(specs.IPCNamespace))
	} else {
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.IPCNamespace, Path: proc("ipc")}))
	}
	opts = append(opts, in.userns.specOpts(proc("user"), in.netns == "")...)
	switch in.cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetPid() {
	case runtimeapi.NamespaceMode_NODE:
		opts = append(opts, oci.WithHostNamespace(specs.PIDNamespace))
	case runtimeapi.NamespaceMode_POD:
		if podNS.GetPid() == runtimeapi.NamespaceMode_NODE {
			opts = append(opts, oci.WithHostNamespace(specs.PIDNamespace))
		} else {
			opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.PIDNamespace, Path: proc("pid")}))
		}
	}
	return opts
}

// containerMounts are the CRI config's mounts, then the pod's hostname, hosts and resolv.conf
// and its /dev/shm (the sandbox's tmpfs, or the host's with host IPC) for the destinations the
// config leaves free. A missing host path of a mount is made a directory, as kubelet expects; a
// recursive read-only mount gets its runtime's option for it, or an error.
func containerMounts(in specInput) ([]specs.Mount, error) {
	var out []specs.Mount
	taken := map[string]bool{}
	for _, m := range in.cfg.GetMounts() {
		src, dst := m.GetHostPath(), m.GetContainerPath()
		if !filepath.IsAbs(src) || !filepath.IsAbs(dst) {
			return nil, fmt.Errorf("mount %q → %q: both paths must be absolute: %w", src, dst, errdefs.ErrInvalidArgument)
		}
		ro, err := readonlyOption(m, in.handler, in.runtime, in.features)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(src); os.IsNotExist(err) {
			if err := os.MkdirAll(src, 0o755); err != nil {
				return nil, fmt.Errorf("failed to create host path %s of a mount: %w", src, err)
			}
		}
		opts := []string{"rbind", ro}
		switch m.GetPropagation() {
		case runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
			if err := sourcePropagates(src, "shared:", "master:"); err != nil {
				return nil, err
			}
			opts = append(opts, "rslave")
		case runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL:
			if err := sourcePropagates(src, "shared:"); err != nil {
				return nil, err
			}
			opts = append(opts, "rshared")
		default:
			opts = append(opts, "rprivate")
		}
		out = append(out, specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts})
		taken[filepath.Clean(dst)] = true
	}
	ro := in.cfg.GetLinux().GetSecurityContext().GetReadonlyRootfs()
	for _, f := range []string{"hostname", "hosts", "resolv.conf"} {
		dst := "/etc/" + f
		if taken[dst] {
			continue
		}
		opt := "rw"
		if ro {
			opt = "ro"
		}
		out = append(out, specs.Mount{Destination: dst, Type: "bind", Source: filepath.Join(in.podDir, f), Options: []string{"rbind", "rprivate", opt}})
	}
	if !taken["/dev/shm"] {
		src := filepath.Join(in.podDir, "shm")
		if in.pod.GetLinux().GetSecurityContext().GetNamespaceOptions().GetIpc() == runtimeapi.NamespaceMode_NODE {
			src = "/dev/shm"
		}
		out = append(out, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: src, Options: []string{"rbind", "rprivate", "rw"}})
	}
	return out, nil
}

// sourcePropagates checks that the mount holding host path src is shared, or a slave when kinds
// has "master:", as a mount propagating to or from the host needs; kubelet makes them so.
func sourcePropagates(src string, kinds ...string) error {
	info, err := mount.Lookup(src)
	if err != nil {
		return fmt.Errorf("failed to find the mount of host path %s: %w", src, err)
	}
	for _, f := range strings.Fields(info.Optional) {
		for _, k := range kinds {
			if strings.HasPrefix(f, k) {
				return nil
			}
		}
	}
	want := "a shared mount"
	if len(kinds) > 1 {
		want = "a shared or slave mount"
	}
	return fmt.Errorf("host path %s is on mount %s, which is not %s as its mount propagation needs: %w",
		src, info.Mountpoint, want, errdefs.ErrFailedPrecondition)
}

// withRootfsPropagation makes the container's root rshared when a mount is bidirectional, as runc
// needs for the container's mounts to reach the host, and rslave when one only receives the host's.
func withRootfsPropagation(mounts []*runtimeapi.Mount) oci.SpecOpts {
	p := ""
	for _, m := range mounts {
		switch m.GetPropagation() {
		case runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL:
			p = "rshared"
		case runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
			if p == "" {
				p = "rslave"
			}
		}
	}
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		if p != "" {
			if s.Linux == nil {
				s.Linux = &specs.Linux{}
			}
			s.Linux.RootfsPropagation = p
		}
		return nil
	}
}

// withResources sets the container's CPU, memory, cpuset, hugepage and unified limits and its
// oom_score_adj, raised to corrald's own.
func withResources(r *runtimeapi.LinuxContainerResources, ownOOM int) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		if r == nil {
			return nil
		}
		applyResources(s, r)
		oom := max(int(r.GetOomScoreAdj()), ownOOM)
		s.Process.OOMScoreAdj = &oom
		return nil
	}
}

// applyResources writes r's limits into s's linux resources; zero values leave a limit unset.
func applyResources(s *specs.Spec, r *runtimeapi.LinuxContainerResources) {
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
	if s.Linux.Resources == nil {
		s.Linux.Resources = &specs.LinuxResources{}
	}
	res := s.Linux.Resources
	if res.CPU == nil {
		res.CPU = &specs.LinuxCPU{}
	}
	if res.Memory == nil {
		res.Memory = &specs.LinuxMemory{}
	}
	if v := r.GetCpuPeriod(); v != 0 {
		p := uint64(v)
		res.CPU.Period = &p
	}
	if v := r.GetCpuQuota(); v != 0 {
		res.CPU.Quota = &v
	}
	if v := r.GetCpuShares(); v != 0 {
		sh := uint64(v)
		res.CPU.Shares = &sh
	}
	if v := r.GetCpusetCpus(); v != "" {
		res.CPU.Cpus = v
	}
	if v := r.GetCpusetMems(); v != "" {
		res.CPU.Mems = v
	}
	if v := r.GetMemoryLimitInBytes(); v != 0 {
		res.Memory.Limit = &v
	}
	if v := r.GetMemorySwapLimitInBytes(); v != 0 {
		res.Memory.Swap = &v
	}
	for _, h := range r.GetHugepageLimits() {
		res.HugepageLimits = append(res.HugepageLimits, specs.LinuxHugepageLimit{Pagesize: h.GetPageSize(), Limit: h.GetLimit()})
	}
	if len(r.GetUnified()) > 0 {
		res.Unified = map[string]string{}
		for k, v := range r.GetUnified() {
			res.Unified[k] = v
		}
	}
}

// hasSeccomp says whether the kernel supports seccomp filters.
func hasSeccomp() bool {
	b, err := os.ReadFile("/proc/self/status")
	return err == nil && strings.Contains(string(b), "\nSeccomp:")
}
