package v2

import (
	"context"
	"time"

	task "github.com/containerd/containerd/api/runtime/task/v2"
	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// taskClient calls the shim's task service. Version 3 of the service has the same messages as
// version 2 under another name, so one set of message types serves both.
type taskClient struct {
	c       *ttrpc.Client
	service string
}

func newTaskClient(c *ttrpc.Client, version int) *taskClient {
	service := "containerd.task.v2.Task"
	if version == 3 {
		service = "containerd.task.v3.Task"
	}
	return &taskClient{c: c, service: service}
}

func (c *taskClient) call(ctx context.Context, method string, req, resp any) error {
	if resp == nil {
		resp = &emptypb.Empty{}
	}
	return shimError(c.c.Call(ctx, c.service, method, req, resp))
}

func (c *taskClient) create(ctx context.Context, r *task.CreateTaskRequest) (*task.CreateTaskResponse, error) {
	var resp task.CreateTaskResponse
	return &resp, c.call(ctx, "Create", r, &resp)
}

func (c *taskClient) start(ctx context.Context, r *task.StartRequest) (*task.StartResponse, error) {
	var resp task.StartResponse
	return &resp, c.call(ctx, "Start", r, &resp)
}

func (c *taskClient) delete(ctx context.Context, r *task.DeleteRequest) (*task.DeleteResponse, error) {
	var resp task.DeleteResponse
	return &resp, c.call(ctx, "Delete", r, &resp)
}

func (c *taskClient) wait(ctx context.Context, r *task.WaitRequest) (*task.WaitResponse, error) {
	var resp task.WaitResponse
	return &resp, c.call(ctx, "Wait", r, &resp)
}

func (c *taskClient) state(ctx context.Context, r *task.StateRequest) (*task.StateResponse, error) {
	var resp task.StateResponse
	return &resp, c.call(ctx, "State", r, &resp)
}

func (c *taskClient) pids(ctx context.Context, r *task.PidsRequest) (*task.PidsResponse, error) {
	var resp task.PidsResponse
	return &resp, c.call(ctx, "Pids", r, &resp)
}

func (c *taskClient) stats(ctx context.Context, r *task.StatsRequest) (*task.StatsResponse, error) {
	var resp task.StatsResponse
	return &resp, c.call(ctx, "Stats", r, &resp)
}

func (c *taskClient) connect(ctx context.Context, r *task.ConnectRequest) (*task.ConnectResponse, error) {
	var resp task.ConnectResponse
	return &resp, c.call(ctx, "Connect", r, &resp)
}

// timestamp converts a shim timestamp; 1.6 shims send year 1 for "not exited".
func timestamp(ts *timestamppb.Timestamp) time.Time {
	if ts == nil || ts.GetSeconds() <= 0 {
		return time.Time{}
	}
	return ts.AsTime()
}
