package v2

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// taskClient calls the shim's task service. Version 3 of the service has the same messages as
// version 2 under another name, so one set of message types serves both.
type taskClient struct {
	c       *ttrpc.Client
	service string
	runtime string // the task's runtime name, which a timeout names
}

func newTaskClient(c *ttrpc.Client, version int, runtime string) *taskClient {
	service := "containerd.task.v2.Task"
	if version == 3 {
		service = "containerd.task.v3.Task"
	}
	return &taskClient{c: c, service: service, runtime: runtime}
}

func (c *taskClient) call(ctx context.Context, method string, req, resp any) error {
	if resp == nil {
		resp = &emptypb.Empty{}
	}
	deadline, hasDeadline := ctx.Deadline()
	limit, ok := ctx.Value(limitKey{}).(time.Duration)
	if !ok {
		limit = time.Until(deadline).Round(time.Millisecond)
	}
	err := c.c.Call(ctx, c.service, method, req, resp)
	if err != nil && hasDeadline && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("shim of runtime %s did not answer %s within %s: %w", c.runtime, method, limit, ctx.Err())
	}
	return shimError(err)
}

// rpc calls method and returns its typed answer.
func rpc[Resp any](ctx context.Context, c *taskClient, method string, req any) (*Resp, error) {
	var resp Resp
	return &resp, c.call(ctx, method, req, &resp)
}

// timestamp converts a shim timestamp; 1.6 shims send year 1 for "not exited".
func timestamp(ts *timestamppb.Timestamp) time.Time {
	if ts == nil || ts.GetSeconds() <= 0 {
		return time.Time{}
	}
	return ts.AsTime()
}
