package commands

import (
	"context"
	"fmt"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	tasktypes "github.com/containerd/containerd/api/types/task"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
	"github.com/moby/sys/signal"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/cmd/corral/commands/cio"
)

// DefaultStopTimeout is how long `tasks stop` waits after SIGTERM before it sends SIGKILL.
const DefaultStopTimeout = 10 * time.Second

// retryInterval is the pause before a wait calls again after corrald answered Unavailable.
const retryInterval = 200 * time.Millisecond

// Wait waits for process execID of task id, or its init if execID is "", to exit and returns its exit
// status. It rides out a restart of corrald: a wait that corrald ends Unavailable, stopping, or that
// loses the connection is made again once corrald serves.
func (c *Client) Wait(ctx context.Context, id, execID string) (uint32, error) {
	req := &tasksapi.WaitRequest{ContainerID: id, ExecID: execID}
	var opts []grpc.CallOption // the first call fails at once if corrald is down
	for {
		resp, err := c.Tasks.Wait(ctx, req, opts...)
		if err == nil {
			return resp.ExitStatus, nil
		}
		if !errdefs.IsUnavailable(err) {
			return 0, fmt.Errorf("failed to wait for %s: %w", processName(id, execID), err)
		}
		opts = []grpc.CallOption{grpc.WaitForReady(true)}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("failed to wait for %s: %w", processName(id, execID), ctx.Err())
		case <-time.After(retryInterval):
		}
	}
}

// Stop sends task id its stop signal (its image's, else SIGTERM) and, if it has not exited after
// timeout, SIGKILL. It returns the task's exit status; a task that has already exited just gives its
// status.
func (c *Client) Stop(ctx context.Context, id string, timeout time.Duration) (uint32, error) {
	sig, err := c.stopSignal(ctx, id)
	if err != nil {
		return 0, err
	}
	if err := c.MarkStopped(ctx, id); err != nil {
		return 0, err
	}
	if err := c.kill(ctx, id, sig); err != nil {
		return 0, err
	}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	status, err := c.Wait(waitCtx, id, "")
	cancel()
	if err == nil || ctx.Err() != nil || waitCtx.Err() == nil {
		return status, err
	}
	if err := c.kill(ctx, id, unix.SIGKILL); err != nil {
		return 0, err
	}
	return c.Wait(ctx, id, "")
}

// Remove deletes container id, its stopped task, and the FIFOs the task was created with. With force,
// a running or paused task is killed with SIGKILL and waited for first, and again if its restart
// policy restarted it meanwhile; without, it is an error.
func (c *Client) Remove(ctx context.Context, id string, force bool) error {
	fifos := c.TaskFIFOs(ctx, id)
	if force {
		if err := c.MarkStopped(ctx, id); err != nil {
			return err
		}
	}
	for try := 0; ; try++ {
		if force {
			if err := c.kill9(ctx, id); err != nil {
				return err
			}
		}
		_, err := c.Containers.Delete(ctx, &containersapi.DeleteContainerRequest{ID: id})
		if err == nil {
			break
		}
		if !errdefs.IsFailedPrecondition(err) {
			return err
		}
		if !force {
			return fmt.Errorf("%w (rm -f kills the task first)", err)
		}
		if try == removeTries {
			return err
		}
	}
	cio.Remove(fifos)
	return nil
}

// stopSignal returns the signal that stops task id first: the stop signal of its container's image,
// which run records as containerd does (label containerd.StopSignalLabel), else SIGTERM.
func (c *Client) stopSignal(ctx context.Context, id string) (unix.Signal, error) {
	resp, err := c.Containers.Get(ctx, &containersapi.GetContainerRequest{ID: id})
	if errdefs.IsNotFound(err) {
		return unix.SIGTERM, nil // the kill says what is missing
	}
	if err != nil {
		return 0, fmt.Errorf("failed to get container %s: %w", id, err)
	}
	name, ok := resp.Container.Labels[containerd.StopSignalLabel]
	if !ok {
		return unix.SIGTERM, nil
	}
	sig, err := signal.ParseSignal(name)
	if err != nil {
		return 0, fmt.Errorf("failed to read the stop signal of container %s: %w", id, err)
	}
	return sig, nil
}

// removeTries bounds how often rm -f kills a task its restart policy was restarting meanwhile.
const removeTries = 3

// MarkStopped records that the user stops task id on purpose (api.LabelStoppedByUser), so that its
// restart policy leaves it stopped. Only a container with a restart policy gets the label.
func (c *Client) MarkStopped(ctx context.Context, id string) error {
	resp, err := c.Containers.Get(ctx, &containersapi.GetContainerRequest{ID: id})
	if errdefs.IsNotFound(err) {
		return nil // the kill says what is missing
	}
	if err != nil {
		return fmt.Errorf("failed to get container %s: %w", id, err)
	}
	if p := resp.Container.Labels[api.LabelRestart]; p == "" || p == api.RestartNo {
		return nil
	}
	_, err = c.Containers.Update(ctx, &containersapi.UpdateContainerRequest{
		Container:  &containersapi.Container{ID: id, Labels: map[string]string{api.LabelStoppedByUser: "true"}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"labels." + api.LabelStoppedByUser}},
	})
	if err != nil {
		return fmt.Errorf("failed to mark container %s stopped by its user: %w", id, err)
	}
	return nil
}

// kill9 kills a running or paused task id with SIGKILL and waits for it to exit. A paused task is
// resumed after the signal, which it can only act on thawed. Without a task, or with a created or
// stopped one, it does nothing: deleting the container deletes those.
func (c *Client) kill9(ctx context.Context, id string) error {
	resp, err := c.Tasks.Get(ctx, &tasksapi.GetRequest{ContainerID: id})
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to get task %s: %w", id, err)
	}
	status := resp.Process.Status
	if status != tasktypes.Status_RUNNING && status != tasktypes.Status_PAUSED {
		return nil
	}
	if err := c.kill(ctx, id, unix.SIGKILL); err != nil {
		return err
	}
	if status == tasktypes.Status_PAUSED {
		if _, err := c.Tasks.Resume(ctx, &tasksapi.ResumeTaskRequest{ContainerID: id}); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("failed to resume task %s to let it die: %w", id, err)
		}
	}
	_, err = c.Wait(ctx, id, "")
	return err
}

// kill sends sig to the init of task id; a task that has already exited is not an error.
func (c *Client) kill(ctx context.Context, id string, sig unix.Signal) error {
	_, err := c.Tasks.Kill(ctx, &tasksapi.KillRequest{ContainerID: id, Signal: uint32(sig)})
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("failed to send %s to task %s: %w", unix.SignalName(sig), id, err)
	}
	return nil
}
