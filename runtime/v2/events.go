package v2

import (
	"context"
	"sync"

	"github.com/containerd/containerd/api/events"
	eventsttrpc "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/log"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/corral-dev/corral/runtime"
)

var _ eventsttrpc.TTRPCEventsService = (*Runtime)(nil)

// published are the topics the tasks service publishes itself for every family; forwarding the
// shim's copies would duplicate them.
var published = map[string]bool{
	"/tasks/create": true, "/tasks/start": true, "/tasks/exit": true, "/tasks/delete": true,
	"/tasks/paused": true, "/tasks/resumed": true, "/tasks/exec-added": true, "/tasks/exec-started": true,
}

// exitNote is an exit learned from a /tasks/exit event, possibly before anyone waits for it.
type exitNote struct {
	once sync.Once
	done chan struct{}
	exit runtime.Exit
}

func (r *Runtime) note(k string) *exitNote {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.exits[k]
	if !ok {
		n = &exitNote{done: make(chan struct{})}
		r.exits[k] = n
	}
	return n
}

// clearNote drops an exit noted under k, so a new process with a reused id waits for its own.
func (r *Runtime) clearNote(k string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.exits, k)
}

// Forward receives an event a shim publishes. It never blocks: a slow events endpoint stalls the
// shim's publisher and, through it, the shim.
func (r *Runtime) Forward(ctx context.Context, req *eventsttrpc.ForwardRequest) (*emptypb.Empty, error) {
	env := req.GetEnvelope()
	if env == nil {
		return &emptypb.Empty{}, nil
	}
	if env.Topic == "/tasks/exit" {
		var e events.TaskExit
		if err := proto.Unmarshal(env.GetEvent().GetValue(), &e); err != nil {
			log.G(ctx).WithError(err).Warn("undecodable /tasks/exit event from shim")
		} else {
			execID := e.ID
			if execID == e.ContainerID {
				execID = ""
			}
			n := r.note(env.Namespace + "/" + e.ContainerID + "/" + execID)
			n.once.Do(func() {
				n.exit = runtime.Exit{Pid: e.Pid, Status: e.ExitStatus, Timestamp: timestamp(e.ExitedAt)}
				close(n.done)
			})
		}
	}
	if !published[env.Topic] && r.publish != nil {
		r.publish(ctx, env)
	}
	return &emptypb.Empty{}, nil
}
