package daemon

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	eventsapi "github.com/containerd/containerd/api/services/events/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/corral-dev/corral/services"
	"github.com/corral-dev/corral/services/events"
)

// blockingTasks waits for ever in Wait and answers Kill at once.
type blockingTasks struct {
	tasksapi.UnimplementedTasksServer
}

func (blockingTasks) Wait(ctx context.Context, _ *tasksapi.WaitRequest) (*tasksapi.WaitResponse, error) {
	<-ctx.Done()
	return nil, services.ToGRPC(ctx.Err())
}

func (blockingTasks) Kill(context.Context, *tasksapi.KillRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func TestDrainEndsWaits(t *testing.T) {
	dr := newDrain()
	srv := grpc.NewServer(grpc.UnaryInterceptor(dr.unary), grpc.StreamInterceptor(dr.stream))
	tasksapi.RegisterTasksServer(srv, blockingTasks{})
	eventsapi.RegisterEventsServer(srv, &events.Service{Exchange: events.NewExchange()})
	path := filepath.Join(t.TempDir(), "d.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Stop()
	conn, err := grpc.NewClient("unix:"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	tasks := tasksapi.NewTasksClient(conn)
	if _, err := tasks.Kill(ctx, &tasksapi.KillRequest{}); err != nil {
		t.Fatalf("a call that does not wait: %v", err)
	}
	waitErr := make(chan error, 1)
	go func() {
		_, err := tasks.Wait(ctx, &tasksapi.WaitRequest{ContainerID: "c"})
		waitErr <- err
	}()
	sub, err := eventsapi.NewEventsClient(conn).Subscribe(ctx, &eventsapi.SubscribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	subErr := make(chan error, 1)
	go func() {
		_, err := sub.Recv()
		subErr <- err
	}()
	time.Sleep(100 * time.Millisecond) // both calls reach the server
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	dr.stop()
	for name, ch := range map[string]chan error{"Wait": waitErr, "Subscribe": subErr} {
		select {
		case err := <-ch:
			if !errdefs.IsUnavailable(errgrpc.ToNative(err)) {
				t.Errorf("%s ended with %v, want Unavailable", name, err)
			}
		case <-ctx.Done():
			t.Fatalf("%s did not end", name)
		}
	}
	select {
	case <-stopped:
	case <-ctx.Done():
		t.Fatal("GracefulStop did not return")
	}
}
