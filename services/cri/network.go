package cri

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/containerd/containerd/v2/pkg/netns"
	"github.com/containerd/errdefs"
	gocni "github.com/containerd/go-cni"
	cnins "github.com/containernetworking/plugins/pkg/ns"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/corral-dev/corral/config"
)

// network attaches pods to the CNI network configured in [cri.cni], in network namespaces corrald
// creates and bind-mounts under dir. The configuration is read again for every use, so a file
// dropped into conf_dir counts at once.
type network struct {
	conf config.CNI
	dir  string
}

func newNetwork(conf config.CNI, dir string) *network { return &network{conf: conf, dir: dir} }

// load reads the first configuration in conf_dir and adds the loopback network.
func (n *network) load() (gocni.CNI, error) {
	c, err := gocni.New(gocni.WithMinNetworkCount(2), gocni.WithPluginConfDir(n.conf.ConfDir),
		gocni.WithPluginDir([]string{n.conf.BinDir}), gocni.WithInterfacePrefix("eth"))
	if err == nil {
		err = c.Load(gocni.WithLoNetwork, gocni.WithDefaultConf)
	}
	if err != nil {
		return nil, fmt.Errorf("no usable CNI network configuration in cri.cni.conf_dir %s (plugins from %s): %v: %w",
			n.conf.ConfDir, n.conf.BinDir, err, errdefs.ErrFailedPrecondition)
	}
	return c, nil
}

// ready says why pods cannot get a network, or nil.
func (n *network) ready() error {
	_, err := n.load()
	return err
}

// name is the configured network's name, or "".
func (n *network) name() string {
	c, err := n.load()
	if err != nil {
		return ""
	}
	nets := c.GetConfig().Networks
	if len(nets) == 0 || nets[len(nets)-1].Config == nil {
		return ""
	}
	return nets[len(nets)-1].Config.Name
}

// create makes a new network namespace for a pod and attaches it, returning its path and the pod's
// IPs (the primary first). A pod with a user namespace gets one owned by a new user namespace with
// its mappings, pinned at dir's usernsPin for the pause to join. Nothing is left if it fails.
func (n *network) create(ctx context.Context, id string, cfg *runtimeapi.PodSandboxConfig, u userns, dir string) (_ string, _ []string, retErr error) {
	c, err := n.load()
	if err != nil {
		return "", nil, err
	}
	ns, err := n.newNS(u, usernsPin(dir))
	if err != nil {
		return "", nil, fmt.Errorf("failed to create network namespace for pod sandbox %s: %w", id, err)
	}
	defer func() {
		if retErr != nil {
			_ = ns.Remove()
		}
	}()
	netSysctls, _ := splitSysctls(cfg.GetLinux().GetSysctls())
	if err := setSysctls(ns.GetPath(), netSysctls); err != nil {
		return "", nil, fmt.Errorf("failed to set up network of pod sandbox %s: %w", id, err)
	}
	res, err := c.Setup(ctx, id, ns.GetPath(), podNetOpts(id, cfg)...)
	if err != nil {
		_ = c.Remove(context.WithoutCancel(ctx), id, ns.GetPath(), podNetOpts(id, cfg)...)
		return "", nil, fmt.Errorf("failed to set up network of pod sandbox %s: %w", id, err)
	}
	var ips []string
	if iface := res.Interfaces["eth0"]; iface != nil {
		for _, ipc := range iface.IPConfigs {
			if ipc.IP.To4() != nil {
				ips = append([]string{ipc.IP.String()}, ips...) // IPv4 first, as containerd's CRI does
			} else {
				ips = append(ips, ipc.IP.String())
			}
		}
	}
	return ns.GetPath(), ips, nil
}

// newNS makes a network namespace; with u on, one owned by a new user namespace with u's mappings,
// so that the pod's root may mount sysfs for it, and that user namespace bind-mounted at pin. Both
// are made by a process stopped before it runs anything (ptraced at its execve), then killed. The
// user namespace is root's, as one runc makes is: root keeps every capability in it (runc sets the
// container's rlimits from outside, which needs CAP_SYS_RESOURCE there).
func (n *network) newNS(u userns, pin string) (*netns.NetNS, error) {
	if !u.on() {
		return netns.NewNetNS(n.dir)
	}
	if err := os.WriteFile(pin, nil, 0o444); err != nil {
		return nil, fmt.Errorf("failed to create user namespace pin %s: %w", pin, err)
	}
	proc, err := os.StartProcess("/proc/self/exe", []string{"corrald-userns"}, &os.ProcAttr{Sys: &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET, UidMappings: sysIDMaps(u.uids), GidMappings: sysIDMaps(u.gids),
		GidMappingsEnableSetgroups: true, Ptrace: true, Pdeathsig: syscall.SIGKILL,
	}})
	if err != nil {
		return nil, fmt.Errorf("failed to start a process in a new user namespace: %w", err)
	}
	defer func() {
		_ = proc.Kill()
		_, _ = proc.Wait()
	}()
	ns, err := netns.NewNetNSFromPID(n.dir, uint32(proc.Pid))
	if err != nil {
		return nil, fmt.Errorf("failed to pin the network namespace of a new user namespace: %w", err)
	}
	if err := unix.Mount(fmt.Sprintf("/proc/%d/ns/user", proc.Pid), pin, "", unix.MS_BIND, ""); err != nil {
		_ = ns.Remove()
		return nil, fmt.Errorf("failed to pin the user namespace at %s: %w", pin, err)
	}
	return ns, nil
}

// sysIDMaps converts id mappings for syscall.SysProcAttr.
func sysIDMaps(ms []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, 0, len(ms))
	for _, m := range ms {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	return out
}

// remove detaches the pod from the network and removes its namespace. A namespace already gone
// means a remove before did it all.
func (n *network) remove(ctx context.Context, id, path string, cfg *runtimeapi.PodSandboxConfig) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	c, err := n.load()
	if err != nil {
		return fmt.Errorf("failed to tear down network of pod sandbox %s: %w", id, err)
	}
	if err := c.Remove(ctx, id, path, podNetOpts(id, cfg)...); err != nil {
		return fmt.Errorf("failed to tear down network of pod sandbox %s: %w", id, err)
	}
	if err := netns.LoadNetNS(path).Remove(); err != nil {
		return fmt.Errorf("failed to remove network namespace %s of pod sandbox %s: %w", path, id, err)
	}
	return nil
}

// podNetOpts are the CNI arguments and capabilities of a pod: its names for the plugins, and its
// host ports for portmap.
func podNetOpts(id string, cfg *runtimeapi.PodSandboxConfig) []gocni.NamespaceOpts {
	md := cfg.GetMetadata()
	opts := []gocni.NamespaceOpts{gocni.WithLabels(map[string]string{
		"IgnoreUnknown": "1", "K8S_POD_NAMESPACE": md.GetNamespace(), "K8S_POD_NAME": md.GetName(),
		"K8S_POD_INFRA_CONTAINER_ID": id, "K8S_POD_UID": md.GetUid(),
	})}
	var ports []gocni.PortMapping
	for _, p := range cfg.GetPortMappings() {
		if p.GetHostPort() <= 0 {
			continue
		}
		ports = append(ports, gocni.PortMapping{HostPort: p.GetHostPort(), ContainerPort: p.GetContainerPort(),
			Protocol: strings.ToLower(p.GetProtocol().String()), HostIP: p.GetHostIp()})
	}
	return append(opts, gocni.WithCapabilityPortMap(ports))
}

// splitSysctls returns the pod's net.* sysctls apart from the others.
func splitSysctls(all map[string]string) (net, rest map[string]string) {
	net, rest = map[string]string{}, map[string]string{}
	for k, v := range all {
		if strings.HasPrefix(k, "net.") || strings.HasPrefix(k, "net/") {
			net[k] = v
		} else {
			rest[k] = v
		}
	}
	return net, rest
}

// setSysctls writes net.* sysctls in the network namespace at path, before any runtime sees it, so
// that every runtime honours them (LXC cannot: it sets sysctls after /proc/sys is read-only).
func setSysctls(path string, sysctls map[string]string) error {
	if len(sysctls) == 0 {
		return nil
	}
	return netns.LoadNetNS(path).Do(func(cnins.NetNS) error {
		for k, v := range sysctls {
			file := k
			if !strings.Contains(k, "/") {
				file = strings.ReplaceAll(k, ".", "/")
			}
			if strings.Contains("/"+file+"/", "/../") {
				return fmt.Errorf("invalid sysctl %q: %w", k, errdefs.ErrInvalidArgument)
			}
			if err := os.WriteFile(filepath.Join("/proc/sys", file), []byte(v), 0o644); err != nil {
				return fmt.Errorf("failed to set sysctl %s=%q in the pod's network namespace: %w", k, v, err)
			}
		}
		return nil
	})
}
