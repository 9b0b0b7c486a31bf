package cri

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"github.com/moby/sys/signal"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StartContainer implements the CRI: it creates the container's task and starts it, and records
// when. A task that fails to start is deleted again.
func (s *Service) StartContainer(ctx context.Context, r *runtimeapi.StartContainerRequest) (_ *runtimeapi.StartContainerResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	c, err := s.findContainer(ctx, r.GetContainerId())
	if err != nil {
		return nil, err
	}
	if c.state != runtimeapi.ContainerState_CONTAINER_CREATED {
		return nil, fmt.Errorf("container %s is %s, not created: %w", c.id, c.state, errdefs.ErrFailedPrecondition)
	}
	log.G(ctx).WithField("id", c.id).Info("cri: start container")
	cc, err := s.client.LoadContainer(ctx, c.id)
	if err != nil {
		return nil, fmt.Errorf("failed to load container %s: %w", c.id, err)
	}
	io, err := s.taskIO(ctx, cc, c)
	if err != nil {
		return nil, err
	}
	task, err := cc.NewTask(ctx, io)
	if err != nil {
		return nil, fmt.Errorf("failed to create task of container %s on runtime %s: %w", c.id, c.runtime, err)
	}
	if err := task.Start(ctx); err != nil {
		_, _ = task.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill)
		return nil, fmt.Errorf("failed to start container %s on runtime %s: %w", c.id, c.runtime, err)
	}
	if _, err := cc.SetLabels(ctx, map[string]string{labelStartedAt: time.Now().UTC().Format(time.RFC3339Nano)}); err != nil {
		return nil, fmt.Errorf("failed to record the start of container %s: %w", c.id, err)
	}
	return &runtimeapi.StartContainerResponse{}, nil
}

// taskIO is the container's stdio: FIFOs its keeper holds for Attach, besides writing the log.
func (s *Service) taskIO(_ context.Context, _ containerd.Container, c *ctr) (cio.Creator, error) {
	return s.containerIO(c)
}

// StopContainer implements the CRI: it sends the image's stop signal (SIGTERM if it names none),
// and SIGKILL once the timeout passed. An unknown or stopped container is no error.
func (s *Service) StopContainer(ctx context.Context, r *runtimeapi.StopContainerRequest) (_ *runtimeapi.StopContainerResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	c, err := s.findContainer(ctx, r.GetContainerId())
	if errors.Is(err, errdefs.ErrNotFound) {
		return &runtimeapi.StopContainerResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	sig := syscall.SIGTERM
	if img, err := s.findImage(ctx, c.imageID); err == nil && img.config.Config.StopSignal != "" {
		if v, err := signal.ParseSignal(img.config.Config.StopSignal); err == nil {
			sig = v
		}
	}
	if err := s.stopContainer(ctx, c, sig, time.Duration(r.GetTimeout())*time.Second); err != nil {
		return nil, err
	}
	return &runtimeapi.StopContainerResponse{}, nil
}

// stopContainer sends sig to a running container's task, waits up to timeout for it to exit, then
// kills it and waits up to s.stopTimeout. The task stays, with its exit status.
func (s *Service) stopContainer(ctx context.Context, c *ctr, sig syscall.Signal, timeout time.Duration) error {
	if c.state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return nil
	}
	log.G(ctx).WithFields(log.Fields{"id": c.id, "signal": sig, "timeout": timeout}).Info("cri: stop container")
	cc, err := s.client.LoadContainer(ctx, c.id)
	if err != nil {
		return fmt.Errorf("failed to load container %s: %w", c.id, err)
	}
	t, err := cc.Task(ctx, nil)
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to load task of container %s: %w", c.id, err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exited, err := t.Wait(wctx)
	if err != nil {
		return fmt.Errorf("failed to wait for container %s: %w", c.id, err)
	}
	if timeout > 0 && sig != syscall.SIGKILL {
		if err := t.Kill(ctx, sig); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			return fmt.Errorf("failed to signal container %s with %s: %w", c.id, sig, err)
		}
		select {
		case <-exited:
			return nil
		case <-time.After(timeout):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// A container that exits on its own meanwhile (its runtime then knows it no more) makes the
	// kill fail; its exit, which follows, makes the stop a success.
	killErr := t.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll)
	if errors.Is(killErr, errdefs.ErrNotFound) {
		killErr = nil
	}
	select {
	case <-exited:
		return nil
	case <-time.After(s.stopTimeout):
		if killErr != nil {
			return fmt.Errorf("failed to kill container %s: %w", c.id, killErr)
		}
		return fmt.Errorf("container %s did not exit within %s of SIGKILL: %w", c.id, s.stopTimeout, context.DeadlineExceeded)
	case <-ctx.Done():
		return errors.Join(ctx.Err(), killErr)
	}
}

// RemoveContainer implements the CRI: it kills the container if it runs, deletes its task, and
// removes it with its snapshot. An unknown container is no error.
func (s *Service) RemoveContainer(ctx context.Context, r *runtimeapi.RemoveContainerRequest) (_ *runtimeapi.RemoveContainerResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	c, err := s.findContainer(ctx, r.GetContainerId())
	if errors.Is(err, errdefs.ErrNotFound) {
		return &runtimeapi.RemoveContainerResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := s.removeContainer(ctx, c); err != nil {
		return nil, err
	}
	return &runtimeapi.RemoveContainerResponse{}, nil
}

// removeContainer kills c, deletes its task and removes it with its snapshot and image volumes.
func (s *Service) removeContainer(ctx context.Context, c *ctr) error {
	log.G(ctx).WithField("id", c.id).Info("cri: remove container")
	if err := s.stopContainer(ctx, c, syscall.SIGKILL, 0); err != nil {
		return err
	}
	cc, err := s.client.LoadContainer(ctx, c.id)
	if errors.Is(err, errdefs.ErrNotFound) {
		return s.removeImageVolumes(ctx, c.id)
	}
	if err != nil {
		return fmt.Errorf("failed to load container %s: %w", c.id, err)
	}
	if t, err := cc.Task(ctx, nil); err == nil {
		if _, err := t.Delete(ctx, containerd.WithProcessKill); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			return fmt.Errorf("failed to delete task of container %s: %w", c.id, err)
		}
	} else if !errors.Is(err, errdefs.ErrNotFound) {
		return fmt.Errorf("failed to load task of container %s: %w", c.id, err)
	}
	if err := cc.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return fmt.Errorf("failed to remove container %s: %w", c.id, err)
	}
	if err := os.RemoveAll(filepath.Dir(s.ioDir(c.id))); err != nil {
		return fmt.Errorf("failed to remove the stdio fifos of container %s: %w", c.id, err)
	}
	return s.removeImageVolumes(ctx, c.id)
}

// podContainers lists the containers of pod sandbox id.
func (s *Service) podContainers(ctx context.Context, id string) ([]*ctr, error) {
	all, err := s.containers(ctx)
	if err != nil {
		return nil, err
	}
	var out []*ctr
	for _, c := range all {
		if c.sandboxID == id {
			out = append(out, c)
		}
	}
	return out, nil
}
