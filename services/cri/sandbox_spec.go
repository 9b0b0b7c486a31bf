package cri

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// sandboxOOMScoreAdj is the pause process's oom_score_adj, as containerd's CRI gives it, raised to
// corrald's own: lowering it needs CAP_SYS_RESOURCE, which root may lack.
const sandboxOOMScoreAdj = -998

// CRI annotations on the pause container's spec, which runtimes such as runsc read.
const (
	annContainerType    = "io.kubernetes.cri.container-type"
	annSandboxID        = "io.kubernetes.cri.sandbox-id"
	annSandboxName      = "io.kubernetes.cri.sandbox-name"
	annSandboxNamespace = "io.kubernetes.cri.sandbox-namespace"
	annSandboxUID       = "io.kubernetes.cri.sandbox-uid"
	annSandboxLogDir    = "io.kubernetes.cri.sandbox-log-directory"
	annSandboxImage     = "io.kubernetes.cri.podsandbox.image-name"
)

// hostNetwork says whether the pod uses the node's network namespace.
func hostNetwork(cfg *runtimeapi.PodSandboxConfig) bool {
	return cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() == runtimeapi.NamespaceMode_NODE
}

// hostIPC says whether the pod uses the node's IPC namespace (and /dev/shm).
func hostIPC(cfg *runtimeapi.PodSandboxConfig) bool {
	return cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetIpc() == runtimeapi.NamespaceMode_NODE
}

// sandboxSpec is the pause container's spec: the image's command, the pod's namespaces (pause owns
// network, IPC and UTS; the network one is netnsPath unless the pod uses the host's), hostname,
// sysctls (but the net.* ones network.create set), cgroup parent, oom_score_adj, the /dev/shm
// under dir its containers share, and the pod's user namespace u: the one owning the network
// namespace, pinned in dir, or a new one on the host's network.
func (s *Service) sandboxSpec(id string, cfg *runtimeapi.PodSandboxConfig, img containerd.Image, netnsPath, dir string, u userns) ([]oci.SpecOpts, error) {
	nsOpts := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()
	md := cfg.GetMetadata()
	opts := []oci.SpecOpts{
		oci.WithImageConfig(img),
		oci.WithoutRunMount,
		oci.WithRootFSReadonly(),
		oci.WithAnnotations(map[string]string{
			annContainerType: "sandbox", annSandboxID: id, annSandboxName: md.GetName(), annSandboxNamespace: md.GetNamespace(),
			annSandboxUID: md.GetUid(), annSandboxLogDir: cfg.GetLogDirectory(), annSandboxImage: s.sandboxImage(),
		}),
	}
	if hostNetwork(cfg) {
		opts = append(opts, oci.WithHostNamespace(specs.NetworkNamespace), oci.WithHostNamespace(specs.UTSNamespace))
		opts = append(opts, u.specOpts("", true)...)
	} else {
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netnsPath}),
			oci.WithHostname(cfg.GetHostname()))
		opts = append(opts, u.specOpts(usernsPin(dir), false)...)
	}
	if nsOpts.GetPid() == runtimeapi.NamespaceMode_NODE {
		opts = append(opts, oci.WithHostNamespace(specs.PIDNamespace))
	}
	if hostIPC(cfg) {
		opts = append(opts, oci.WithHostNamespace(specs.IPCNamespace))
	} else {
		opts = append(opts, oci.WithMounts([]specs.Mount{{Destination: "/dev/shm", Type: "bind", Source: filepath.Join(dir, "shm"),
			Options: []string{"rbind", "rprivate", "rw"}}}))
	}
	if parent := cfg.GetLinux().GetCgroupParent(); parent != "" {
		opts = append(opts, oci.WithCgroup(filepath.Join(parent, id)))
	}
	own, err := ownOOMScoreAdj()
	if err != nil {
		return nil, err
	}
	sysctls := cfg.GetLinux().GetSysctls()
	if !hostNetwork(cfg) {
		_, sysctls = splitSysctls(sysctls) // set in the network namespace already
	}
	return append(opts, withSysctls(sysctls), withOOMScoreAdj(max(sandboxOOMScoreAdj, own))), nil
}

// withSysctls sets the pod's sysctls.
func withSysctls(sysctls map[string]string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		if len(sysctls) == 0 {
			return nil
		}
		if s.Linux.Sysctl == nil {
			s.Linux.Sysctl = map[string]string{}
		}
		for k, v := range sysctls {
			s.Linux.Sysctl[k] = v
		}
		return nil
	}
}

// withOOMScoreAdj sets the process's oom_score_adj.
func withOOMScoreAdj(v int) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		s.Process.OOMScoreAdj = &v
		return nil
	}
}

// ownOOMScoreAdj is corrald's oom_score_adj, the lowest a container may get.
func ownOOMScoreAdj() (int, error) {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0, fmt.Errorf("failed to read corrald's oom_score_adj: %w", err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("failed to parse corrald's oom_score_adj %q: %w", b, err)
	}
	return v, nil
}
