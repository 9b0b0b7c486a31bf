package v2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/containerd/containerd/api/events"
	eventsttrpc "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/log"
	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/corral-dev/corral/runtime"
)

// published are the topics the tasks service publishes itself for every family, from what the
// shims answer; a shim's copies are never believed nor forwarded.
var published = map[string]bool{
	"/tasks/create": true, "/tasks/start": true, "/tasks/exit": true, "/tasks/delete": true,
	"/tasks/paused": true, "/tasks/resumed": true, "/tasks/exec-added": true, "/tasks/exec-started": true,
}

// endpoint is where one shim publishes its events: a socket of its own, passed to it as
// TTRPC_ADDRESS when the task that started it was created, so that every event received there comes
// from that shim (or from a process it gave the socket to). An event about a task the shim does not
// serve is dropped; a grouped shim serves several.
type endpoint struct {
	srv   *ttrpc.Server
	path  string
	tasks map[string]bool // by namespace/id: the tasks whose events are taken here; guarded by Runtime.mu
}

// eventsPath is the socket of task t's events endpoint, short whatever the id.
func (r *Runtime) eventsPath(t runtime.Task) string {
	h := sha256.Sum256([]byte(key(t)))
	return filepath.Join(r.eventsDir, hex.EncodeToString(h[:12])+".sock")
}

// savedEventsPath is the events endpoint the shim of task t publishes to, as saved in its bundle:
// a task that joined a grouped shim has the socket of the task that started the shim.
func (r *Runtime) savedEventsPath(t runtime.Task) string {
	if b, err := os.ReadFile(filepath.Join(t.Bundle, eventsFile)); err == nil && len(b) > 0 {
		return strings.TrimSpace(string(b))
	}
	return r.eventsPath(t)
}

// listenEvents serves the events endpoint at path and takes task t's events there. Each path has
// one endpoint, shared by the tasks of a grouped shim.
func (r *Runtime) listenEvents(t runtime.Task, path string) (*endpoint, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.endpoints[path]; ok {
		e.tasks[key(t)] = true
		return e, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("failed to listen for the events of task %s: %w", t.ID, err)
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		ln.Close()
		return nil, err
	}
	e := &endpoint{srv: srv, path: path, tasks: map[string]bool{key(t): true}}
	eventsttrpc.RegisterTTRPCEventsService(srv, &forwarder{r: r, e: e})
	go func() { _ = srv.Serve(context.Background(), ln) }()
	r.endpoints[path] = e
	return e, nil
}

// releaseEventsLocked stops taking task t's events at e, and stops e once it takes no task's. The
// caller holds r.mu.
func (r *Runtime) releaseEventsLocked(e *endpoint, t runtime.Task) {
	delete(e.tasks, key(t))
	if len(e.tasks) == 0 && r.endpoints[e.path] == e {
		e.srv.Close()
		_ = os.Remove(e.path)
		delete(r.endpoints, e.path)
	}
}

// forwarder receives the events of one shim.
type forwarder struct {
	r       *Runtime
	e       *endpoint
	dropped atomic.Uint64
}

var _ eventsttrpc.TTRPCEventsService = (*forwarder)(nil)

// takes reports whether the endpoint takes the events of task ns/id.
func (f *forwarder) takes(ns, id string) bool {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	return f.e.tasks[ns+"/"+id]
}

// Forward hands an event of a task of this shim to subscribers. It keeps nothing and never blocks
// on a shim: a slow events endpoint stalls the shim's publisher and, through it, the shim. Exits are
// never taken from events, only from the shim's Wait.
func (f *forwarder) Forward(ctx context.Context, req *eventsttrpc.ForwardRequest) (*emptypb.Empty, error) {
	env := req.GetEnvelope()
	if env == nil || published[env.Topic] {
		return &emptypb.Empty{}, nil
	}
	var owner events.TaskOOM // every task event carries its container's id as field 1
	if proto.Unmarshal(env.GetEvent().GetValue(), &owner) != nil || !f.takes(env.Namespace, owner.ContainerID) {
		// Logged at the 1st, 2nd, 4th, 8th… drop: a flood cannot flood the log.
		if n := f.dropped.Add(1); n&(n-1) == 0 {
			log.G(ctx).WithField("topic", env.Topic).WithField("namespace", env.Namespace).WithField("endpoint", filepath.Base(f.e.path)).
				WithField("dropped", n).Warn("dropped an event about another task from a shim")
		}
		return &emptypb.Empty{}, nil
	}
	if f.r.publish != nil {
		f.r.publish(ctx, env)
	}
	return &emptypb.Empty{}, nil
}
