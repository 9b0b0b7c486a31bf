package cri

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Host files a pod without a DNS config or on the host's network gets a copy of.
const (
	hostResolvConf = "/etc/resolv.conf"
	hostHosts      = "/etc/hosts"
)

// writeFiles writes the files the pod's containers will bind-mount to dir: hostname, hosts and
// resolv.conf, from the pod's DNS config or else the host's.
func writeFiles(dir string, cfg *runtimeapi.PodSandboxConfig, hostNetwork bool) error {
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return fmt.Errorf("failed to create sandbox directory %s: %w", dir, err)
	}
	hostname := cfg.GetHostname()
	if hostNetwork || hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("failed to read the host's name: %w", err)
		}
		hostname = h
	}
	resolv, err := resolvConf(cfg.GetDnsConfig())
	if err != nil {
		return err
	}
	hosts, err := os.ReadFile(hostHosts)
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", hostHosts, err)
	}
	for name, b := range map[string][]byte{"hostname": []byte(hostname + "\n"), "resolv.conf": resolv, "hosts": hosts} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("failed to write %s of the pod sandbox: %w", name, err)
		}
	}
	return nil
}

// resolvConf renders a pod's DNS config; without one (or an empty one) it is the host's file.
func resolvConf(dns *runtimeapi.DNSConfig) ([]byte, error) {
	if len(dns.GetServers()) == 0 && len(dns.GetSearches()) == 0 && len(dns.GetOptions()) == 0 {
		b, err := os.ReadFile(hostResolvConf)
		if err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", hostResolvConf, err)
		}
		return b, nil
	}
	var b strings.Builder
	if len(dns.GetSearches()) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(dns.GetSearches(), " "))
	}
	for _, s := range dns.GetServers() {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(dns.GetOptions()) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(dns.GetOptions(), " "))
	}
	return []byte(b.String()), nil
}

// shmSize is the size of a pod's /dev/shm, as containerd's CRI makes it.
const shmSize = "65536k"

// mountShm mounts the pod's /dev/shm, a tmpfs its containers share, at dir/shm.
func mountShm(dir string) error {
	shm := filepath.Join(dir, "shm")
	if err := os.MkdirAll(shm, 0o700); err != nil {
		return fmt.Errorf("failed to create the pod's /dev/shm %s: %w", shm, err)
	}
	if err := unix.Mount("shm", shm, "tmpfs", unix.MS_NOEXEC|unix.MS_NOSUID|unix.MS_NODEV, "mode=1777,size="+shmSize); err != nil {
		return fmt.Errorf("failed to mount the pod's /dev/shm at %s: %w", shm, err)
	}
	return nil
}

// usernsPin is where the user namespace of a pod that has one is bind-mounted, in its sandbox
// directory dir, until the pod is removed.
func usernsPin(dir string) string { return filepath.Join(dir, "userns") }

// removeDir unmounts the pod's /dev/shm and user namespace pin, if mounted, and removes the sandbox
// directory dir.
func removeDir(dir string) error {
	for _, m := range []string{filepath.Join(dir, "shm"), usernsPin(dir)} {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("failed to unmount %s of a pod sandbox: %w", m, err)
		}
	}
	return os.RemoveAll(dir)
}
