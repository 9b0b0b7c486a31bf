package v2

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	task "github.com/containerd/containerd/api/runtime/task/v2"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/log"
	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api/keeper"
	"github.com/corral-dev/corral/runtime"
)

// Files containerd's shim contract keeps in the bundle.
const (
	addressFile = "address"          // the shim's ttrpc address (written by 1.6/1.7 shims, by us otherwise)
	binaryFile  = "shim-binary-path" // the binary that was started, used again at restore
	eventsFile  = "shim-events"      // the events socket the shim publishes to, listened on again at restore
	logFifo     = "log"              // the shim's stderr
	versionFile = "shim-version"     // the task API version the shim speaks (2 or 3), for restore
)

// shim is a connection to one running shim process. A grouped shim (containerd-shim-runc-v2 groups
// the containers that share an io.containerd.runc.v2.group or io.kubernetes.cri.sandbox-id
// annotation) serves several tasks over one connection.
type shim struct {
	client  *ttrpc.Client
	task    *taskClient
	log     *os.File
	closed  chan struct{} // closed when the connection to the shim drops
	address string
	events  *endpoint       // where the shim publishes: the endpoint of the task that started it
	tasks   map[string]bool // by namespace/id: the tasks it serves; guarded by Runtime.mu
}

// alive reports whether the connection to the shim is up.
func (s *shim) alive() bool {
	select {
	case <-s.closed:
		return false
	default:
		return true
	}
}

// startShim runs `<shim> start` the way containerd does, with e as the shim's events endpoint, and
// connects to the shim it leaves running. If that is a shim already connected (a grouped one), it
// serves task t too. If starting fails, no shim process, socket or runtime state of the task is left
// (a grouped shim goes on serving its other tasks).
func (r *Runtime) startShim(ctx context.Context, t runtime.Task, opts *anypb.Any, e *endpoint) (_ *shim, retErr error) {
	in, err := r.startInput(t, opts)
	if err != nil {
		return nil, fmt.Errorf("failed to build start input of shim %s: %w", t.ID, err)
	}
	logf, err := openLog(ctx, t)
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			logf.Close()
		}
	}()
	cmd := r.command(ctx, t, "start")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output() // stdout only: stderr output would corrupt the address
	if err != nil {
		return nil, r.abandon(ctx, t, fmt.Errorf("%s start failed: %w: %s", filepath.Base(t.Runtime.Path), err, strings.TrimSpace(stderr.String())))
	}
	address, version, err := parseStart(out)
	if err == nil {
		err = writeFile(t.Bundle, addressFile, address)
	}
	if err == nil {
		err = writeFile(t.Bundle, versionFile, strconv.Itoa(version))
	}
	if err == nil {
		err = writeFile(t.Bundle, binaryFile, t.Runtime.Path)
	}
	var s *shim
	if err == nil {
		s, err = r.connect(ctx, t.Runtime.Name, address, version, logf)
	}
	if err == nil {
		s.events = e
		s = r.bind(t, s)
		if err = writeFile(t.Bundle, eventsFile, s.events.path); err != nil {
			r.forget(t)
		}
	}
	if err != nil {
		// The shim runs detached already: kill it and have its delete subcommand take the rest down.
		return nil, r.abandon(ctx, t, fmt.Errorf("failed to start shim %s for %s: %w", filepath.Base(t.Runtime.Path), t.ID, err))
	}
	return s, nil
}

// command builds a shim invocation with containerd's arguments and environment, run in the bundle.
func (r *Runtime) command(ctx context.Context, t runtime.Task, action string, extra ...string) *exec.Cmd {
	args := []string{"-namespace", t.Namespace, "-address", r.grpcAddress, "-publish-binary", r.self, "-id", t.ID}
	args = append(append(args, extra...), action)
	cmd := exec.CommandContext(ctx, t.Runtime.Path, append(t.Runtime.Args, args...)...)
	cmd.Dir = t.Bundle
	cmd.Env = append(os.Environ(), "TTRPC_ADDRESS="+r.eventsPath(t), "GRPC_ADDRESS="+r.grpcAddress,
		"NAMESPACE="+t.Namespace, "MAX_SHIM_VERSION=2", "GOMAXPROCS=2", keeper.EnvSocketDir+"="+r.socketDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// connect dials the address of a shim of runtime name: unix://path, or a bare abstract socket name.
func (r *Runtime) connect(ctx context.Context, name, address string, version int, logf *os.File) (*shim, error) {
	path := strings.TrimPrefix(address, "unix://")
	if path == address {
		path = "\x00" + address
	}
	d := net.Dialer{Timeout: r.timeouts.connect}
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("failed to connect to shim at %s: %w", address, err)
	}
	s := &shim{log: logf, closed: make(chan struct{}), address: address, tasks: map[string]bool{}}
	s.client = ttrpc.NewClient(conn, ttrpc.WithOnClose(func() { close(s.closed) }))
	s.task = newTaskClient(s.client, version, name)
	return s, nil
}

// openLog creates the bundle's log FIFO and follows it.
func openLog(ctx context.Context, t runtime.Task) (*os.File, error) {
	path := filepath.Join(t.Bundle, logFifo)
	if err := syscall.Mkfifo(path, 0o600); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("failed to create shim log fifo: %w", err)
	}
	return followLog(ctx, t)
}

// followLog copies what the shim writes to the bundle's log FIFO to corrald's log. The FIFO is
// opened read-write so the shim's open never blocks and the reader never sees EOF.
func followLog(ctx context.Context, t runtime.Task) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(t.Bundle, logFifo), os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	l := log.G(ctx).WithField("id", t.ID).WithField("namespace", t.Namespace).WithField("shim", filepath.Base(t.Runtime.Path))
	go func() {
		s := bufio.NewScanner(f)
		for s.Scan() {
			l.Debug(s.Text())
		}
	}()
	return f, nil
}

func writeFile(dir, name, value string) error {
	tmp := filepath.Join(dir, "."+name)
	if err := os.WriteFile(tmp, []byte(value), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// close drops the connection to the shim and stops copying its log.
func (s *shim) close() {
	s.client.Close()
	if s.log != nil {
		s.log.Close()
	}
}

// cleanup runs the `delete` subcommand for a shim that is gone or unreachable: it removes the
// container's runtime state and answers with the init's exit.
func (r *Runtime) cleanup(ctx context.Context, t runtime.Task) (runtime.Exit, error) {
	if p, err := os.ReadFile(filepath.Join(t.Bundle, binaryFile)); err == nil && len(p) > 0 && string(p) != t.Runtime.Path {
		// The family launched another binary than the runtime's (corral-shim for runc): the
		// runtime's arguments are not the shim's.
		t.Runtime.Path, t.Runtime.Args = string(p), nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeouts.cleanup)
	defer cancel()
	cmd := r.command(ctx, t, "delete", "-bundle", t.Bundle)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	r.removeSocket(t.Bundle)
	if err != nil {
		return runtime.Exit{}, fmt.Errorf("%s delete failed: %w: %s", filepath.Base(t.Runtime.Path), err, lastLine(stderr.String()))
	}
	var resp task.DeleteResponse
	if err := proto.Unmarshal(out, &resp); err != nil {
		return runtime.Exit{}, fmt.Errorf("failed to parse shim delete answer: %w", err)
	}
	return runtime.Exit{Pid: resp.Pid, Status: resp.ExitStatus, Timestamp: timestamp(resp.ExitedAt)}, nil
}

// removeSocket removes the socket file a killed shim leaves behind, unless a live shim connected at
// that address serves tasks: a grouped shim serves the bundle's task and others.
func (r *Runtime) removeSocket(bundle string) {
	b, err := os.ReadFile(filepath.Join(bundle, addressFile))
	if err != nil {
		return
	}
	address := strings.TrimSpace(string(b))
	r.mu.Lock()
	live := r.shimAtLocked(address) != nil
	r.mu.Unlock()
	if p, ok := strings.CutPrefix(address, "unix://"); ok && !live {
		_ = os.Remove(p)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// shimError converts a ttrpc error to an errdefs class.
func shimError(err error) error {
	if err == nil {
		return nil
	}
	return errgrpc.ToNative(err)
}
