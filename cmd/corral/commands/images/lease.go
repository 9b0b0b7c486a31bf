package images

import (
	"context"
	"fmt"
	"time"

	leasesapi "github.com/containerd/containerd/api/services/leases/v1"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"google.golang.org/grpc"
)

// pullLeaseExpiry bounds how long a pull's lease keeps what the pull fetched and unpacked when corral
// could not release it (corral itself killed): corrald's next collection after that, at the latest
// when it starts again, removes it. containerd's client uses 24 hours.
const pullLeaseExpiry = time.Hour

// leaseReleaseTimeout bounds how long a pull that ended waits for corrald (restarting, say) to
// take its lease back.
const leaseReleaseTimeout = 30 * time.Second

// withLease returns ctx under a new lease, so nothing a pull stores is collected before its image
// record holds it, and the release that deletes the lease: then corrald collects whatever a failed
// pull left. The release waits up to leaseReleaseTimeout for corrald to answer.
func withLease(ctx context.Context, c *containerd.Client) (context.Context, func() error, error) {
	conn, ok := c.Conn().(*grpc.ClientConn)
	if !ok {
		return nil, nil, fmt.Errorf("failed to create a lease for the pull: the client has no gRPC connection: %w", errdefs.ErrNotImplemented)
	}
	l, err := c.LeasesService().Create(ctx, leases.WithRandomID(), leases.WithExpiration(pullLeaseExpiry))
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create a lease for the pull: %w", err)
	}
	release := func() error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseReleaseTimeout)
		defer cancel()
		_, err := leasesapi.NewLeasesClient(conn).Delete(ctx, &leasesapi.DeleteRequest{ID: l.ID}, grpc.WaitForReady(true))
		if err != nil {
			return fmt.Errorf("failed to delete lease %s of the pull: corrald collects what it holds %v after the pull began: %w", l.ID, pullLeaseExpiry, errgrpc.ToNative(err))
		}
		return nil
	}
	return leases.WithLease(ctx, l.ID), release, nil
}
