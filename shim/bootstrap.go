package shim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	task "github.com/containerd/containerd/api/runtime/task/v2"
	runc "github.com/containerd/go-runc"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/engine/lcr"
)

// Start is the `start` bootstrap: it listens on the keeper's socket, writes the socket's address to
// the bundle (the working directory), starts the keeper detached in its own session with the
// listener as fd 3, and returns the address, which the caller prints.
func Start(f Flags) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	sockDir := os.Getenv(keeper.EnvSocketDir)
	if sockDir == "" {
		sockDir = keeper.DefaultSocketDir
	}
	if err := os.MkdirAll(sockDir, 0o711); err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(f.Address + "/" + f.Namespace + "/" + f.ID))
	sock := filepath.Join(sockDir, hex.EncodeToString(h[:12])+".sock")
	_ = os.Remove(sock)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return "", fmt.Errorf("failed to listen on %s: %w", sock, err)
	}
	ln.SetUnlinkOnClose(false)
	defer ln.Close()
	lf, err := ln.File()
	if err != nil {
		return "", err
	}
	defer lf.Close()
	address := "unix://" + sock
	if err := os.Chmod(sock, 0o600); err == nil {
		err = writeFile(dir, AddressFile, address)
	}
	if err != nil {
		_ = os.Remove(sock)
		return "", err
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	args := []string{"-namespace", f.Namespace, "-id", f.ID, "-address", f.Address}
	if f.Debug {
		args = append(args, "-debug")
	}
	cmd := exec.Command(self, args...)
	cmd.Args[0] = os.Args[0] // keep the name it was run under: it chooses the default driver
	// The keeper copies a container's I/O and waits on it: one P is enough, and saves memory.
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Dir = dir
	cmd.ExtraFiles = []*os.File{lf}
	cmd.Stderr = shimLog(dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		_ = os.Remove(sock)
		return "", fmt.Errorf("failed to start the keeper: %w", err)
	}
	_ = cmd.Process.Release()
	return address, nil
}

// shimLog is the keeper's stderr: the bundle's log FIFO when its launcher reads one, else shim.log.
func shimLog(dir string) *os.File {
	if f, err := os.OpenFile(filepath.Join(dir, logFifo), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		return f
	}
	f, err := os.OpenFile(filepath.Join(dir, shimLogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil
	}
	return f
}

// Delete is the `delete` bootstrap, run when the keeper is gone or does not answer: it stops the
// keeper and the container, removes the runtime's state and the socket, and answers with the init's
// exit: the recorded one, or SIGKILL's.
func Delete(ctx context.Context, f Flags) (*task.DeleteResponse, error) {
	dir := f.Bundle
	if dir == "" {
		var err error
		if dir, err = os.Getwd(); err != nil {
			return nil, err
		}
	}
	defer removeSocket(dir)
	killKeeper(dir, f.ID)
	if e, err := ReadExit(dir); err == nil {
		return &task.DeleteResponse{Pid: e.Pid, ExitStatus: e.Status, ExitedAt: timestamppb.New(e.ExitedAt)}, nil
	}
	resp := &task.DeleteResponse{ExitStatus: 128 + uint32(unix.SIGKILL), ExitedAt: timestamppb.Now()}
	c, err := ReadConfig(dir)
	if errors.Is(err, os.ErrNotExist) {
		return resp, nil // nothing was created
	} else if err != nil {
		return nil, err
	}
	if c.Rootfs {
		defer unmountRootfs(dir) //nolint:errcheck // the answer is the exit; a busy mount stays for the next delete
	}
	if pid, err := runc.ReadPidFile(filepath.Join(dir, InitPIDFile)); err == nil {
		resp.Pid = uint32(pid)
	}
	ctx, cancel := context.WithTimeout(ctx, c.WithDefaults().CallTimeout)
	defer cancel()
	switch c.Driver {
	case keeper.DriverLXC:
		err = killCgroups(ctx, c.LXC)
	default:
		rt := Runtime(dir, c)
		_ = rt.Kill(ctx, c.ID, int(unix.SIGKILL), &runc.KillOpts{All: true})
		if err = rt.Delete(ctx, c.ID, &runc.DeleteOpts{Force: true}); err != nil {
			err = RuntimeError(err, filepath.Join(dir, RuntimeLog), 0)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("failed to delete container %s: %w", c.ID, err)
	}
	return resp, nil
}

// killKeeper SIGKILLs the keeper of the work dir dir, if it still runs.
func killKeeper(dir, id string) {
	b, err := os.ReadFile(filepath.Join(dir, ShimPIDFile))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return
	}
	// Guard against pid reuse: the process must be the keeper of this container.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "\x00-id\x00"+id+"\x00") {
		return
	}
	_ = unix.Kill(pid, unix.SIGKILL)
}

// killCgroups SIGKILLs the processes of an LXC container and its monitor until none is left, then
// removes their cgroups.
func killCgroups(ctx context.Context, c *LXCConfig) error {
	if c == nil {
		return nil
	}
	h, err := lcr.LoadHierarchies()
	if err != nil {
		return err
	}
	for _, cg := range []*lcr.Cgroup{h.Cgroup(c.Cgroup), h.Cgroup(c.Cgroup + lcr.MonitorSuffix)} {
		for {
			pids, err := cg.Procs()
			if err != nil {
				return err
			}
			if len(pids) == 0 {
				break
			}
			for _, p := range pids {
				_ = unix.Kill(p, unix.SIGKILL)
			}
			if cg.Frozen() {
				_ = cg.Thaw()
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("processes %v of cgroup %s survived SIGKILL", pids, cg.Dir)
			case <-time.After(10 * time.Millisecond):
			}
		}
		if err := cg.Remove(); err != nil {
			return err
		}
	}
	return nil
}

// removeSocket removes the socket named in the bundle's address file.
func removeSocket(dir string) {
	if b, err := os.ReadFile(filepath.Join(dir, AddressFile)); err == nil {
		if p, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "unix://"); ok {
			_ = os.Remove(p)
		}
	}
}

// writeFile writes value to dir/name atomically.
func writeFile(dir, name, value string) error {
	tmp := filepath.Join(dir, "."+name)
	if err := os.WriteFile(tmp, []byte(value), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}
