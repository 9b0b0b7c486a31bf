// Package events is corrald's event exchange and containerd's events service on top of it.
package events

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	apievents "github.com/containerd/containerd/api/services/events/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Exchange fans published events out to subscribers. A slow subscriber loses events rather than
// stalling publishers.
type Exchange struct {
	mu   sync.Mutex
	subs map[chan *types.Envelope]filter
}

// NewExchange returns an empty exchange.
func NewExchange() *Exchange {
	return &Exchange{subs: map[chan *types.Envelope]filter{}}
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
		if !f.match(env) {
			continue
		}
		select {
		case ch <- env:
		default:
			log.G(ctx).WithField("topic", env.Topic).Warn("event subscriber too slow, dropping event")
		}
	}
}

// Subscribe returns a channel of events matching filters (containerd syntax, alternatives joined
// by ","; supported: topic==X, topic~=RE, namespace==X). cancel ends the subscription.
func (e *Exchange) Subscribe(filters ...string) (<-chan *types.Envelope, func(), error) {
	f, err := parseFilters(filters)
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

// filter is a disjunction of conjunctions of field conditions.
type filter [][]cond

type cond struct {
	field string
	eq    string
	re    *regexp.Regexp
}

func (f filter) match(env *types.Envelope) bool {
	if len(f) == 0 {
		return true
	}
	for _, all := range f {
		ok := true
		for _, c := range all {
			v := env.Topic
			if c.field == "namespace" {
				v = env.Namespace
			}
			if (c.re != nil && !c.re.MatchString(v)) || (c.re == nil && v != c.eq) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func parseFilters(filters []string) (filter, error) {
	var f filter
	for _, s := range filters {
		for _, alt := range strings.Split(s, ",") {
			var all []cond
			for _, part := range strings.Split(alt, "&&") {
				c, err := parseCond(strings.TrimSpace(part))
				if err != nil {
					return nil, err
				}
				all = append(all, c)
			}
			f = append(f, all)
		}
	}
	return f, nil
}

func parseCond(s string) (cond, error) {
	for _, op := range []string{"==", "~="} {
		field, val, ok := strings.Cut(s, op)
		if !ok {
			continue
		}
		field, val = strings.TrimSpace(field), strings.Trim(strings.TrimSpace(val), `"`)
		if field != "topic" && field != "namespace" {
			break
		}
		if op == "==" {
			return cond{field: field, eq: val}, nil
		}
		re, err := regexp.Compile(val)
		if err != nil {
			return cond{}, fmt.Errorf("event filter %q: %v: %w", s, err, errdefs.ErrInvalidArgument)
		}
		return cond{field: field, re: re}, nil
	}
	return cond{}, fmt.Errorf("event filter %q not supported: use topic==X, topic~=RE or namespace==X: %w", s, errdefs.ErrInvalidArgument)
}

// Service is containerd's events service.
type Service struct {
	apievents.UnimplementedEventsServer
	Exchange *Exchange
}
