package v2

// The `start` bootstrap across containerd releases: what a shim reads on stdin, how its answer is
// read, and how a shim whose answer cannot be used is taken down again.

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	bootapi "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/runtime"
)

// Module paths of containerd 1.x and 2.x, as Go build information names them.
const (
	containerd1 = "github.com/containerd/containerd"
	containerd2 = "github.com/containerd/containerd/v2"
)

// killPoll is how often abandon looks whether a killed shim is gone. Waiting for it and the delete
// subcommand are each bounded by the cleanup timeout.
const killPoll = 10 * time.Millisecond

// bootstrap is the JSON answer of 2.0–2.2 shims (and of some 1.7 ones) to `start`.
type bootstrap struct {
	Version  int    `json:"version"`
	Address  string `json:"address"`
	Protocol string `json:"protocol"`
}

// startInput is what `start` reads on stdin. Shims built on containerd 1.x read it as the runtime
// options Any and fail on any other message, and containerd still sends that Any to *-runc-v1 and
// *-runhcs-v1 binaries. Every other shim gets BootstrapParams with the options as an extension:
// 2.4 shims require it, 2.3 shims prefer it and 2.0–2.2 shims ignore what they cannot read.
func (r *Runtime) startInput(t runtime.Task, opts *anypb.Any) ([]byte, error) {
	if legacyStdin(t.Runtime.Path) {
		if opts == nil {
			return nil, nil
		}
		return proto.Marshal(opts)
	}
	// LogLevel stays INFO: corrald passes no -debug either, so no shim opens a debug socket.
	p := &bootapi.BootstrapParams{
		InstanceID:             t.ID,
		Namespace:              t.Namespace,
		ContainerdTtrpcAddress: r.eventsPath(t),
		ContainerdGrpcAddress:  r.grpcAddress,
		ContainerdBinary:       r.self,
	}
	if opts != nil {
		p.Extensions = []*bootapi.Extension{{Value: opts}}
	}
	return proto.Marshal(p)
}

// legacyStdin reports whether the shim binary wants the runtime options Any on stdin.
func legacyStdin(binary string) bool {
	name := filepath.Base(binary)
	if strings.Contains(name, "shim-runc-v1") || strings.Contains(name, "shim-runhcs-v1") {
		return true
	}
	bi, err := buildinfo.ReadFile(binary)
	return err == nil && builtOnContainerd1(bi)
}

// builtOnContainerd1 reports whether a Go binary is containerd 1.x's own command or links its shim
// library. Distributions build 1.x in GOPATH mode, which records the package path but no modules.
func builtOnContainerd1(bi *buildinfo.BuildInfo) bool {
	modules := map[string]bool{bi.Main.Path: true}
	for _, d := range bi.Deps {
		modules[d.Path] = true
	}
	if modules[containerd2] {
		return false
	}
	return modules[containerd1] || strings.HasPrefix(bi.Path, containerd1+"/cmd/")
}

// parseStart reads the answer of `start` in containerd's order: a protobuf BootstrapResult (2.3+),
// then JSON with a version of at least 2 (2.0–2.2), then a plain ttrpc address (1.6, 1.7).
func parseStart(out []byte) (address string, version int, _ error) {
	var res bootapi.BootstrapResult
	if err := proto.Unmarshal(out, &res); err == nil && res.Address != "" {
		return checkAnswer(res.Address, int(res.Version), res.Protocol)
	}
	s := strings.TrimSpace(string(out))
	var j bootstrap
	if err := json.Unmarshal([]byte(s), &j); err == nil && j.Version >= 2 {
		return checkAnswer(j.Address, j.Version, j.Protocol)
	}
	if !plainAddress(s) {
		return "", 0, fmt.Errorf("failed to parse shim start answer %q: %w", truncate(s, 80), errdefs.ErrUnknown)
	}
	return s, 2, nil
}

// checkAnswer accepts a bootstrap answer corrald can use: ttrpc, task API 2 or 3.
func checkAnswer(address string, version int, protocol string) (string, int, error) {
	switch {
	case address == "":
		return "", 0, fmt.Errorf("shim start answer has no address: %w", errdefs.ErrUnknown)
	case protocol != "" && protocol != "ttrpc":
		return "", 0, fmt.Errorf("shim at %s speaks %s, only ttrpc is supported: %w", address, protocol, errdefs.ErrNotImplemented)
	case version != 2 && version != 3:
		return "", 0, fmt.Errorf("shim at %s speaks task API version %d, only 2 and 3 are supported: %w", address, version, errdefs.ErrNotImplemented)
	}
	return address, version, nil
}

// plainAddress reports whether s can be a legacy answer: one printable word, not JSON.
func plainAddress(s string) bool {
	if s == "" || strings.HasPrefix(s, "{") {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// abandon takes down what a `start` whose answer cannot be used left running: it kills the task's
// shim processes, runs the shim's delete subcommand and removes the shims' sockets. It returns
// cause, joined with what could not be undone.
func (r *Runtime) abandon(ctx context.Context, t runtime.Task, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeouts.cleanup)
	defer cancel()
	sockets, err := stopShims(ctx, t)
	errs := []error{cause, err}
	// It fails when the container was never created; all it could remove is gone anyway.
	if _, err := r.cleanup(ctx, t); err != nil {
		log.G(ctx).WithError(err).WithField("id", t.ID).Debug("delete of an abandoned shim")
	}
	if err := removeCgroups(t.Bundle); err != nil {
		errs = append(errs, err)
	}
	for _, s := range sockets {
		if err := os.Remove(s); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("failed to remove shim socket %s of %s: %w", s, t.ID, err))
		}
	}
	return errors.Join(errs...)
}

// stopShims kills the task's shim processes and waits until they, and any runtime they started in
// the bundle (runc create), are gone, so that a delete after it removes all they made. It returns
// the sockets the shims held.
func stopShims(ctx context.Context, t runtime.Task) ([]string, error) {
	pids := shimPids(t)
	sockets := socketPaths(pids)
	var errs []error
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("failed to kill shim %d of %s: %w", pid, t.ID, err))
		}
	}
	for _, pid := range pids {
		if err := waitGone(ctx, pid); err != nil {
			errs = append(errs, fmt.Errorf("failed to kill shim %d of %s: %w", pid, t.ID, err))
		}
	}
	if err := waitIdle(ctx, t.Bundle); err != nil {
		log.G(ctx).WithField("id", t.ID).Warn("a runtime still runs in the bundle of a killed shim; killing it")
		killStragglers(t.Bundle)
	}
	return sockets, errors.Join(errs...)
}

// waitIdle waits until no process but shims runs in the directory dir, or ctx ends. A grouped
// shim of another task may go on running there.
func waitIdle(ctx context.Context, dir string) error {
	for len(runtimePids(dir)) > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(killPoll):
		}
	}
	return nil
}

// pidsIn lists the processes whose working directory is dir.
func pidsIn(dir string) []int {
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd")); err == nil && cwd == dir {
			pids = append(pids, pid)
		}
	}
	return pids
}

// shimPids finds the task's shim processes: shims run in the bundle with -id <id> on their command
// line. A grouped shim that serves another container runs in that container's bundle and is spared.
func shimPids(t runtime.Task) []int {
	var pids []int
	for _, pid := range pidsIn(t.Bundle) {
		cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err == nil && hasFlag(strings.Split(string(cmdline), "\x00"), "-id", t.ID) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func hasFlag(argv []string, flag, value string) bool {
	for i := 0; i+1 < len(argv); i++ {
		if argv[i] == flag && argv[i+1] == value {
			return true
		}
	}
	return false
}

// socketPaths returns the filesystem paths of the unix sockets the processes hold: a shim's listening
// sockets and the connections accepted on them carry its socket path, its client sockets none.
// Sockets of a killed shim stay behind.
func socketPaths(pids []int) []string {
	inodes := map[string]bool{}
	for _, pid := range pids {
		dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
		fds, _ := os.ReadDir(dir)
		for _, fd := range fds {
			if l, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil {
				if inode, ok := strings.CutPrefix(l, "socket:["); ok {
					inodes[strings.TrimSuffix(inode, "]")] = true
				}
			}
		}
	}
	f, err := os.Open("/proc/net/unix")
	if err != nil {
		return nil
	}
	defer f.Close()
	seen := map[string]bool{}
	var paths []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		// Num RefCount Protocol Flags Type St Inode [Path]
		fields := strings.Fields(s.Text())
		if len(fields) == 8 && inodes[fields[6]] && strings.HasPrefix(fields[7], "/") && !seen[fields[7]] {
			seen[fields[7]] = true
			paths = append(paths, fields[7])
		}
	}
	return paths
}

// waitGone waits until pid has exited (a zombie counts: init reaps it).
func waitGone(ctx context.Context, pid int) error {
	for {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return nil
		}
		// pid (comm) S ...: the state follows the last parenthesis.
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(killPoll):
		}
	}
}
