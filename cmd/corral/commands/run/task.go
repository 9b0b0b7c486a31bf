package run

import (
	"context"
	"errors"
	"fmt"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/v2/core/mount"
	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/cmd/corral/commands"
	"github.com/corral-dev/corral/cmd/corral/commands/cio"
)

// run creates the container and its task, on the mounts of snap if an image's, and starts it.
// Detached, it returns once started and leaves the task's FIFOs for `tasks attach`; in the foreground
// it relays stdio and signals and returns the exit status. With --rm it deletes the task and
// container after a foreground run, or after any failure once the container exists; corrald removes
// it too, when its task exited and no client waits. The snapshot goes with the container.
func run(ctx context.Context, c *commands.Client, o options, container *containersapi.Container, snap *snapshot) (status uint32, retErr error) {
	_, err := c.Containers.Create(ctx, &containersapi.CreateContainerRequest{Container: container})
	var rootfs []*types.Mount
	if snap != nil {
		rootfs = mount.ToProto(snap.mounts)
		// Once the record references the snapshot, a lease that outlives corral only delays its removal.
		if rerr := snap.release(ctx, err == nil); rerr != nil && err == nil {
			fmt.Fprintf(o.stdio.Err, "corral: %v\n", rerr)
		} else {
			err = errors.Join(err, rerr)
		}
	}
	if err != nil {
		return 0, err
	}
	taskCreated := false
	if o.rm {
		defer func() {
			if !o.detach || retErr != nil {
				retErr = errors.Join(retErr, cleanup(context.WithoutCancel(ctx), c, o.id, taskCreated))
			}
		}()
	}
	paths, err := cio.NewPaths(o.fifoDir, o.namespace, o.id, o.interactive || !o.detach, o.tty)
	if err != nil {
		return 0, fmt.Errorf("failed to create stdio of container %s: %w", o.id, err)
	}
	out, errOut := o.stdio.Out, o.stdio.Err
	if o.detach {
		out, errOut = nil, nil // the FIFOs are held open only while the task is created
	}
	fifos, err := cio.Open(ctx, paths, out, errOut)
	if err != nil {
		cio.Remove(paths)
		return 0, fmt.Errorf("failed to create stdio of container %s: %w", o.id, err)
	}
	defer func() {
		fifos.Close()
		if !o.detach || !taskCreated {
			cio.Remove(paths)
		}
	}()
	req := &tasksapi.CreateTaskRequest{ContainerID: o.id, Stdin: paths.Stdin, Stdout: paths.Stdout, Stderr: paths.Stderr, Terminal: o.tty, Rootfs: rootfs}
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
	return c.Attached(ctx, o.id, "", fifos, o.stdio)
}

// cleanup deletes the task, if created, with its FIFOs, and the container, unless corrald's
// auto-remove did first.
func cleanup(ctx context.Context, c *commands.Client, id string, taskCreated bool) error {
	if taskCreated {
		if err := c.DeleteTask(ctx, id); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
	}
	if _, err := c.Containers.Delete(ctx, &containersapi.DeleteContainerRequest{ID: id}); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	return nil
}
