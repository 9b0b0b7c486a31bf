package shim

import (
	"context"
	"net"
	"time"

	eventsttrpc "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/log"
	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// publishTimeout bounds one Forward call and the dial before it; an events endpoint that does not
// answer costs the keeper that much per event, never a blocked RPC.
const publishTimeout = 5 * time.Second

// publisher forwards task events to the events service at TTRPC_ADDRESS (corrald's or
// containerd's), in order, from one goroutine. It never blocks a caller: when its queue is full the
// event is dropped and logged.
type publisher struct {
	ns, address string
	queue       chan *types.Envelope
	done        chan struct{}
}

func newPublisher(address, ns string) *publisher {
	p := &publisher{ns: ns, address: address, queue: make(chan *types.Envelope, 256), done: make(chan struct{})}
	go p.run()
	return p
}

// publish queues ev under topic.
func (p *publisher) publish(ctx context.Context, topic string, ev proto.Message) {
	if p.address == "" {
		return
	}
	b, err := proto.Marshal(ev)
	if err != nil {
		log.G(ctx).WithError(err).WithField("topic", topic).Warn("failed to encode event")
		return
	}
	env := &types.Envelope{Timestamp: timestamppb.Now(), Namespace: p.ns, Topic: topic,
		Event: &anypb.Any{TypeUrl: string(proto.MessageName(ev)), Value: b}}
	select {
	case p.queue <- env:
	default:
		log.G(ctx).WithField("topic", topic).Warn("event queue full, event dropped")
	}
}

func (p *publisher) run() {
	defer close(p.done)
	var client *ttrpc.Client
	defer func() {
		if client != nil {
			client.Close()
		}
	}()
	for env := range p.queue {
		for try := 0; try < 2; try++ {
			if client == nil {
				conn, err := net.DialTimeout("unix", p.address, publishTimeout)
				if err != nil {
					log.L.WithError(err).WithField("topic", env.Topic).Warn("failed to reach the events service")
					break
				}
				client = ttrpc.NewClient(conn)
			}
			ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
			_, err := eventsttrpc.NewTTRPCEventsClient(client).Forward(ctx, &eventsttrpc.ForwardRequest{Envelope: env})
			cancel()
			if err == nil {
				break
			}
			log.L.WithError(err).WithField("topic", env.Topic).Warn("failed to forward event")
			client.Close()
			client = nil
		}
	}
}

// close sends what is queued, waiting at most timeout.
func (p *publisher) close(timeout time.Duration) {
	close(p.queue)
	select {
	case <-p.done:
	case <-time.After(timeout):
	}
}
