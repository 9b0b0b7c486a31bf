// Package services holds what every corrald gRPC service shares: the namespace of a request and the
// conversion of errors to gRPC codes at the wire.
package services

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"google.golang.org/grpc/metadata"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/services/store"
)

// Namespace returns the request's namespace, sent by clients as containerd-namespace metadata.
func Namespace(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(api.NamespaceKey)
	if len(vals) == 0 || vals[0] == "" {
		return "", fmt.Errorf("namespace is required (send %s metadata): %w", api.NamespaceKey, errdefs.ErrFailedPrecondition)
	}
	if err := store.ValidateID("namespace", vals[0]); err != nil {
		return "", err
	}
	return vals[0], nil
}

// ToGRPC converts err to a gRPC status error; nil stays nil.
func ToGRPC(err error) error {
	if err == nil {
		return nil
	}
	return errgrpc.ToGRPC(err)
}
