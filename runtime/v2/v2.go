// Package v2 is corrald's one shim client: it starts a task's shim with containerd's `start`
// bootstrap, drives it through containerd's task API over ttrpc, receives its events, reconnects to
// it after a restart and cleans up after it with `delete`. Every runtime family is a Family of it:
// the shim v2 family runs stock containerd-shim-<rt>-<ver> binaries for io.containerd.<rt>.<ver>
// names; the shim v1 and lcr families (runtime/v1, runtime/lcr) run corral-shim with its runc or
// LXC driver.
package v2

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd/api/types"
	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/runtime"
)

// Runtime is the shim client shared by every family. Process lifecycle lives in shim.go, task calls in
// ops.go, events in events.go, the families in family.go.
type Runtime struct {
	grpcAddress string
	self        string
	socketDir   string
	eventsDir   string
	logger      string
	timeouts    timeouts
	publish     func(context.Context, *types.Envelope)

	mu        sync.Mutex
	shims     map[string]*shim     // by namespace/id; the tasks of a grouped shim share one
	endpoints map[string]*endpoint // the shims' events endpoints, by socket path
}

type timeouts struct {
	create, call, connect, cleanup time.Duration
}

// Opts configure the family.
type Opts struct {
	// GRPCAddress is corrald's API socket, passed to shims as -address.
	GRPCAddress string
	// EventsDir holds the shims' events sockets, one per shim, each passed to its shim as
	// TTRPC_ADDRESS.
	EventsDir string
	// Self is corrald's executable, passed as -publish-binary.
	Self string
	// SocketDir is where corral-shim creates its sockets (keeper.EnvSocketDir).
	SocketDir string
	// Logger is corral-shim, the binary:// logger of shim v2 containers that keep a log.
	Logger string
	// CreateTimeout bounds starting a shim and its Create call; CallTimeout every other call but
	// Wait; ConnectTimeout reconnecting at restore; CleanupTimeout the delete subcommand.
	CreateTimeout, CallTimeout, ConnectTimeout, CleanupTimeout time.Duration
	// Publish forwards shim events that the tasks service does not publish itself.
	Publish func(context.Context, *types.Envelope)
}

// New returns the shim client.
func New(o Opts) *Runtime {
	return &Runtime{
		grpcAddress: o.GRPCAddress,
		eventsDir:   o.EventsDir,
		self:        o.Self,
		socketDir:   o.SocketDir,
		logger:      o.Logger,
		timeouts:    timeouts{create: o.CreateTimeout, call: o.CallTimeout, connect: o.ConnectTimeout, cleanup: o.CleanupTimeout},
		publish:     o.Publish,
		shims:       map[string]*shim{},
		endpoints:   map[string]*endpoint{},
	}
}

// IsV2Name reports whether name is io.containerd.<rt>.<ver> with non-empty rt and ver.
func IsV2Name(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) != 4 || parts[0] != "io" || parts[1] != "containerd" {
		return false
	}
	return parts[2] != "" && parts[3] != ""
}

// BinaryName is the shim binary for a v2 name: io.containerd.runc.v2 → containerd-shim-runc-v2.
func BinaryName(name string) string {
	parts := strings.Split(name, ".")
	return "containerd-shim-" + parts[2] + "-" + parts[3]
}

// NameOf is the runtime name for a shim binary name, the inverse of BinaryName; ok is false for
// names that are not containerd-shim-<rt>-<ver>.
func NameOf(binary string) (name string, ok bool) {
	rest, found := strings.CutPrefix(binary, "containerd-shim-")
	if !found {
		return "", false
	}
	i := strings.LastIndex(rest, "-")
	if i <= 0 || i == len(rest)-1 || strings.Contains(rest[:i], ".") {
		return "", false
	}
	return "io.containerd." + rest[:i] + "." + rest[i+1:], true
}

func key(t runtime.Task) string { return t.Namespace + "/" + t.ID }

// get returns the connection to the task's shim, reconnecting from the bundle's saved address after a
// corrald restart.
func (r *Runtime) get(ctx context.Context, t runtime.Task) (*shim, error) {
	r.mu.Lock()
	s, ok := r.shims[key(t)]
	r.mu.Unlock()
	if ok {
		return s, nil
	}
	// Dial without the family's lock: Forward needs it and must never wait on a slow shim.
	return r.reconnect(ctx, t)
}

// shimAtLocked returns the live shim connected at address, if any. The caller holds r.mu.
func (r *Runtime) shimAtLocked(address string) *shim {
	for _, s := range r.shims {
		if s.address == address && s.alive() {
			return s
		}
	}
	return nil
}

// bind records that shim s serves task t. If a live shim is connected at the same address already,
// s is the answer of a grouped shim's start (or of a concurrent reconnect): the connected shim
// serves t too, and s is closed. bind returns the shim that serves t.
func (r *Runtime) bind(t runtime.Task, s *shim) *shim {
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev := r.shimAtLocked(s.address); prev != nil && prev != s {
		s.close()
		if s.events != prev.events {
			r.releaseEventsLocked(s.events, t)
		}
		s = prev
	}
	s.tasks[key(t)] = true
	s.events.tasks[key(t)] = true
	r.shims[key(t)] = s
	return s
}

// forget drops task t from its shim. The shim's connection and events endpoint are closed with its
// last task; forget reports whether the shim still serves other tasks.
func (r *Runtime) forget(t runtime.Task) (shared bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.shims[key(t)]
	if !ok {
		return false
	}
	delete(r.shims, key(t))
	delete(s.tasks, key(t))
	r.releaseEventsLocked(s.events, t)
	if len(s.tasks) > 0 {
		return true
	}
	s.close()
	return false
}

// stdioCheck enforces the shims' all-or-none rule for non-terminal stdio.
func stdioCheck(stdin, stdout, stderr string, terminal bool) error {
	if terminal || (stdout == "" && stderr == "") || (stdout != "" && stderr != "") {
		return nil
	}
	return fmt.Errorf("a shim needs both stdout and stderr, or neither: %w", errdefs.ErrInvalidArgument)
}
