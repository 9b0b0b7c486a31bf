package daemon

import (
	"context"
	"fmt"

	eventsapi "github.com/containerd/containerd/api/services/events/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/corral-dev/corral/services"
)

// waitCalls are the calls that block until something happens rather than doing work: corrald ends
// them when it stops, so a graceful stop does not wait for them.
var waitCalls = map[string]bool{
	"/" + tasksapi.Tasks_ServiceDesc.ServiceName + "/Wait":        true,
	"/" + eventsapi.Events_ServiceDesc.ServiceName + "/Subscribe": true,
	"/" + healthpb.Health_ServiceDesc.ServiceName + "/Watch":      true,
}

// errStopping is what a wait ended by stopping corrald returns: Unavailable, which clients retry.
var errStopping = fmt.Errorf("corrald is stopping; retry once it serves again: %w", errdefs.ErrUnavailable)

// drain ends the waitCalls in flight once corrald stops.
type drain struct {
	stopping context.Context
	stop     context.CancelFunc
}

func newDrain() *drain {
	ctx, cancel := context.WithCancel(context.Background())
	return &drain{stopping: ctx, stop: cancel}
}

// bind returns ctx, also cancelled when corrald stops.
func (d *drain) bind(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	unbind := context.AfterFunc(d.stopping, cancel)
	return ctx, func() { unbind(); cancel() }
}

// unary is the unary server interceptor ending Tasks.Wait when corrald stops.
func (d *drain) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if !waitCalls[info.FullMethod] {
		return handler(ctx, req)
	}
	ctx, unbind := d.bind(ctx)
	defer unbind()
	resp, err := handler(ctx, req)
	if err != nil && d.stopping.Err() != nil {
		return nil, services.ToGRPC(errStopping)
	}
	return resp, err
}

// stream is the stream server interceptor ending event subscriptions when corrald stops.
func (d *drain) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if !waitCalls[info.FullMethod] {
		return handler(srv, ss)
	}
	ctx, unbind := d.bind(ss.Context())
	defer unbind()
	err := handler(srv, &boundStream{ServerStream: ss, ctx: ctx})
	if d.stopping.Err() != nil {
		return services.ToGRPC(errStopping)
	}
	return err
}

// boundStream is a server stream with another context.
type boundStream struct {
	grpc.ServerStream
	ctx context.Context
}

// Context returns the stream's context, bound to corrald's stop.
func (s *boundStream) Context() context.Context { return s.ctx }
