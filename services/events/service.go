package events

import (
	"context"

	apievents "github.com/containerd/containerd/api/services/events/v1"
	"github.com/containerd/containerd/api/types"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/services"
)

// Publish forwards a client's event to subscribers.
func (s *Service) Publish(ctx context.Context, r *apievents.PublishRequest) (*emptypb.Empty, error) {
	ns, err := services.Namespace(ctx)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	s.Exchange.Forward(ctx, &types.Envelope{Timestamp: timestamppb.Now(), Namespace: ns, Topic: r.Topic, Event: r.Event})
	return &emptypb.Empty{}, nil
}

// Forward forwards an enveloped event unchanged.
func (s *Service) Forward(ctx context.Context, r *apievents.ForwardRequest) (*emptypb.Empty, error) {
	s.Exchange.Forward(ctx, r.Envelope)
	return &emptypb.Empty{}, nil
}

// Subscribe streams events matching the request's filters until the client leaves.
func (s *Service) Subscribe(r *apievents.SubscribeRequest, stream apievents.Events_SubscribeServer) error {
	ch, cancel, err := s.Exchange.Subscribe(r.Filters...)
	if err != nil {
		return services.ToGRPC(err)
	}
	defer cancel()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case env := <-ch:
			if err := stream.Send(env); err != nil {
				return err
			}
		}
	}
}
