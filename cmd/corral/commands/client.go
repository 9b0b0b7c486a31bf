package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	eventsapi "github.com/containerd/containerd/api/services/events/v1"
	introspectionapi "github.com/containerd/containerd/api/services/introspection/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	versionapi "github.com/containerd/containerd/api/services/version/v1"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
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
	Events        eventsapi.EventsClient
	Introspection introspectionapi.IntrospectionClient
	Version       versionapi.VersionClient
}

// reconnect is how the client connects again when corrald restarts: gRPC's defaults but at most
// a second apart, where they reach two minutes.
var reconnect = grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
	MinConnectTimeout: 20 * time.Second,
}

// statSocket fails at once if corrald's socket is missing, where gRPC would retry the dial until its
// timeout and then say only "timeout".
func statSocket(address string) error {
	if _, err := os.Stat(address); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("failed to connect to corrald at %s: %w", address, err)
	}
	return nil
}

// NewClient dials corrald at the command's --address and sends its --namespace with every call.
func NewClient(cmd *cobra.Command) (*Client, error) {
	address, namespace := Address(cmd), Namespace(cmd)
	if err := statSocket(address); err != nil {
		return nil, err
	}
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		ctx = metadata.AppendToOutgoingContext(ctx, api.NamespaceKey, namespace)
		return errgrpc.ToNative(invoke(ctx, method, req, reply, cc, opts...))
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		ctx = metadata.AppendToOutgoingContext(ctx, api.NamespaceKey, namespace)
		s, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			return nil, errgrpc.ToNative(err)
		}
		return nativeStream{s}, nil
	}
	conn, err := grpc.NewClient("unix:"+address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(unary), grpc.WithStreamInterceptor(stream),
		grpc.WithConnectParams(reconnect))
	if err != nil {
		return nil, fmt.Errorf("failed to connect to corrald at %s: %w", address, err)
	}
	return &Client{
		conn:          conn,
		Containers:    containersapi.NewContainersClient(conn),
		Tasks:         tasksapi.NewTasksClient(conn),
		Events:        eventsapi.NewEventsClient(conn),
		Introspection: introspectionapi.NewIntrospectionClient(conn),
		Version:       versionapi.NewVersionClient(conn),
	}, nil
}

// nativeStream is a client stream whose errors are errdefs classes, io.EOF aside.
type nativeStream struct{ grpc.ClientStream }

// RecvMsg receives a message and converts the error.
func (s nativeStream) RecvMsg(m any) error {
	if err := s.ClientStream.RecvMsg(m); err != io.EOF {
		return errgrpc.ToNative(err)
	}
	return io.EOF
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
