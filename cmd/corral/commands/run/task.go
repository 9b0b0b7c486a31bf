package run

import (
	"context"
	"errors"
	"fmt"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/cmd/corral/commands"
	"github.com/corral-dev/corral/cmd/corral/commands/cio"
)

// run creates the container and its task and starts it. Detached, it returns once started; in the
// foreground it relays stdio and signals and returns the exit status. With --rm it deletes the task
// and container afterwards, or after any failure once the container exists.
func run(ctx context.Context, c *commands.Client, o options, spec *anypb.Any) (status uint32, retErr error) {
	container := &containersapi.Container{ID: o.id, Runtime: &containersapi.Container_Runtime{Name: o.runtime}, Spec: spec}
	if _, err := c.Containers.Create(ctx, &containersapi.CreateContainerRequest{Container: container}); err != nil {
		return 0, err
	}
	taskCreated := false
	if o.rm {
		defer func() { retErr = errors.Join(retErr, cleanup(context.WithoutCancel(ctx), c, o.id, taskCreated)) }()
	}

	req := &tasksapi.CreateTaskRequest{ContainerID: o.id}
	var fifos *cio.FIFOs
	if !o.detach {
		var err error
		if fifos, err = cio.Open(ctx, o.stdout, o.stderr); err != nil {
			return 0, fmt.Errorf("failed to create stdio of container %s: %w", o.id, err)
		}
		defer fifos.Close()
		req.Stdin, req.Stdout, req.Stderr = fifos.Paths()
	}
	if _, err := c.Tasks.Create(ctx, req); err != nil {
		return 0, err
	}
	taskCreated = true
	if o.detach {
		if _, err := c.Tasks.Start(ctx, &tasksapi.StartRequest{ContainerID: o.id}); err != nil {
			return 0, err
		}
		return 0, nil
	}
	return c.Attached(ctx, o.id, "", fifos, o.stdin, o.stderr)
}

// cleanup deletes the task, if created, and the container.
func cleanup(ctx context.Context, c *commands.Client, id string, taskCreated bool) error {
	if taskCreated {
		if _, err := c.Tasks.Delete(ctx, &tasksapi.DeleteTaskRequest{ContainerID: id}); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
	}
	if _, err := c.Containers.Delete(ctx, &containersapi.DeleteContainerRequest{ID: id}); err != nil {
		return err
	}
	return nil
}
