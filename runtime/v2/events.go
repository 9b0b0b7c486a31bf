package v2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
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
// TTRPC_ADDRESS, so that every event received there comes from the shim of that task (or from a
// process it gave the socket to) and an event about any other task is dropped.
type endpoint struct {
	srv  *ttrpc.Server
	path string
}

// eventsPath is the socket of task t's events endpoint, short whatever the id.
func (r *Runtime) eventsPath(t runtime.Task) string {
	h := sha256.Sum256([]byte(key(t)))
	return filepath.Join(r.eventsDir, hex.EncodeToString(h[:12])+".sock")
}

// listenEvents serves the events endpoint of task t, unless it is served already.
func (r *Runtime) listenEvents(t runtime.Task) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.endpoints[key(t)]; ok {
		return nil
	}
	path := r.eventsPath(t)
	if err := os.MkdirAll(r.eventsDir, 0o700); err != nil {
		return err
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("failed to listen for the events of task %s: %w", t.ID, err)
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		ln.Close()
		return err
	}
	eventsttrpc.RegisterTTRPCEventsService(srv, &forwarder{r: r, ns: t.Namespace, id: t.ID})
	go func() { _ = srv.Serve(context.Background(), ln) }()
	r.endpoints[key(t)] = &endpoint{srv: srv, path: path}
	return nil
}

// closeEvents stops the events endpoint of task t. The caller holds r.mu.
func (r *Runtime) closeEventsLocked(t runtime.Task) {
	if e, ok := r.endpoints[key(t)]; ok {
		e.srv.Close()
		_ = os.Remove(e.path)
		delete(r.endpoints, key(t))
	}
}

// forwarder receives the events of one task's shim.
type forwarder struct {
	r       *Runtime
	ns, id  string
	dropped atomic.Uint64
}

var _ eventsttrpc.TTRPCEventsService = (*forwarder)(nil)

// Forward hands an event of this task to subscribers. It keeps nothing and never blocks: a slow
// events endpoint stalls the shim's publisher and, through it, the shim. Exits are never taken from
// events, only from the shim's Wait.
func (f *forwarder) Forward(ctx context.Context, req *eventsttrpc.ForwardRequest) (*emptypb.Empty, error) {
	env := req.GetEnvelope()
	if env == nil || published[env.Topic] {
		return &emptypb.Empty{}, nil
	}
	var owner events.TaskOOM // every task event carries its container's id as field 1
	if env.Namespace != f.ns || proto.Unmarshal(env.GetEvent().GetValue(), &owner) != nil || owner.ContainerID != f.id {
		// Logged at the 1st, 2nd, 4th, 8th… drop: a flood cannot flood the log.
		if n := f.dropped.Add(1); n&(n-1) == 0 {
			log.G(ctx).WithField("topic", env.Topic).WithField("namespace", env.Namespace).WithField("shim_of", f.ns+"/"+f.id).
				WithField("dropped", n).Warn("dropped an event about another task from a shim")
		}
		return &emptypb.Empty{}, nil
	}
	if f.r.publish != nil {
		f.r.publish(ctx, env)
	}
	return &emptypb.Empty{}, nil
}
