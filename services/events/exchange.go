// Package events is corrald's event exchange and containerd's events service on top of it.
package events

import (
	"context"
	"sync"
	"time"

	apievents "github.com/containerd/containerd/api/services/events/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/v2/pkg/filters"
	"github.com/containerd/log"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Exchange fans published events out to subscribers. A slow subscriber loses events rather than
// stalling publishers.
type Exchange struct {
	mu   sync.Mutex
	subs map[chan *types.Envelope]filters.Filter
}

// NewExchange returns an empty exchange.
func NewExchange() *Exchange {
	return &Exchange{subs: map[chan *types.Envelope]filters.Filter{}}
}

// Publish sends event on topic in namespace ns to every matching subscriber.
func (e *Exchange) Publish(ctx context.Context, ns, topic string, event proto.Message) {
	b, err := proto.Marshal(event)
	if err != nil {
		log.G(ctx).WithError(err).WithField("topic", topic).Error("failed to marshal event")
		return
	}
	// Bare type URLs, as containerd's clients resolve them.
	any := &anypb.Any{TypeUrl: string(proto.MessageName(event)), Value: b}
	e.Forward(ctx, &types.Envelope{Timestamp: timestamppb.New(time.Now()), Namespace: ns, Topic: topic, Event: any})
}

// Forward sends an already wrapped event.
func (e *Exchange) Forward(ctx context.Context, env *types.Envelope) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for ch, f := range e.subs {
		if !f.Match(adapt(env)) {
			continue
		}
		select {
		case ch <- env:
		default:
			log.G(ctx).WithField("topic", env.Topic).Warn("event subscriber too slow, dropping event")
		}
	}
}

// Subscribe returns a channel of the events that match any of fs, containerd's filters on the fields
// adapt names. cancel ends the subscription.
func (e *Exchange) Subscribe(fs ...string) (<-chan *types.Envelope, func(), error) {
	f, err := filters.ParseAll(fs...)
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan *types.Envelope, 256)
	e.mu.Lock()
	e.subs[ch] = f
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		delete(e.subs, ch)
		e.mu.Unlock()
	}, nil
}

// Service is containerd's events service.
type Service struct {
	apievents.UnimplementedEventsServer
	Exchange *Exchange
}
