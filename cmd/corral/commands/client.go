package commands

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	introspectionapi "github.com/containerd/containerd/api/services/introspection/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	versionapi "github.com/containerd/containerd/api/services/version/v1"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/cmd/corral/commands/cio"
)

// Client holds the corrald services corral calls. Their errors are already converted from gRPC
// status errors to errdefs classes.
type Client struct {
	conn          *grpc.ClientConn
	Containers    containersapi.ContainersClient
	Tasks         tasksapi.TasksClient
	Introspection introspectionapi.IntrospectionClient
	Version       versionapi.VersionClient
}

// NewClient dials corrald at the command's --address and sends its --namespace with every call.
func NewClient(cmd *cobra.Command) (*Client, error) {
	address, namespace := Address(cmd), Namespace(cmd)
	if _, err := os.Stat(address); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("failed to connect to corrald at %s: %w", address, err)
	}
	// Every call corral makes is unary, so one interceptor covers them all.
	intercept := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		ctx = metadata.AppendToOutgoingContext(ctx, api.NamespaceKey, namespace)
		return errgrpc.ToNative(invoke(ctx, method, req, reply, cc, opts...))
	}
	conn, err := grpc.NewClient("unix:"+address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(intercept))
	if err != nil {
		return nil, fmt.Errorf("failed to connect to corrald at %s: %w", address, err)
	}
	return &Client{
		conn:          conn,
		Containers:    containersapi.NewContainersClient(conn),
		Tasks:         tasksapi.NewTasksClient(conn),
		Introspection: introspectionapi.NewIntrospectionClient(conn),
		Version:       versionapi.NewVersionClient(conn),
	}, nil
}

// Close closes the connection to corrald.
func (c *Client) Close() error { return c.conn.Close() }

// lost returns a channel closed once the connection to corrald is lost: it failed, or it was dropped
// and connecting again fails.
func (c *Client) lost(ctx context.Context) <-chan struct{} {
	lost := make(chan struct{})
	go func() {
		for {
			s := c.conn.GetState()
			switch s {
			case connectivity.TransientFailure, connectivity.Shutdown:
				close(lost)
				return
			case connectivity.Idle:
				c.conn.Connect()
			}
			if !c.conn.WaitForStateChange(ctx, s) {
				return
			}
		}
	}()
	return lost
}

// TaskFIFOs returns the FIFOs task id was created with; none when there is no such task.
func (c *Client) TaskFIFOs(ctx context.Context, id string) cio.Paths {
	resp, err := c.Tasks.Get(ctx, &tasksapi.GetRequest{ContainerID: id})
	if err != nil {
		return cio.Paths{}
	}
	return cio.Paths{Stdin: resp.Process.Stdin, Stdout: resp.Process.Stdout, Stderr: resp.Process.Stderr}
}

// DeleteTask deletes task id and removes the FIFOs it was created with, which a detached run leaves.
func (c *Client) DeleteTask(ctx context.Context, id string) error {
	fifos := c.TaskFIFOs(ctx, id)
	if _, err := c.Tasks.Delete(ctx, &tasksapi.DeleteTaskRequest{ContainerID: id}); err != nil {
		return err
	}
	cio.Remove(fifos)
	return nil
}
