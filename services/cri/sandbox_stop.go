package cri

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StopPodSandbox implements the CRI: it kills the pod's containers and the pause process, deletes its task, and detaches the
// pod from the network and removes its namespace. An unknown or stopped sandbox is no error.
func (s *Service) StopPodSandbox(ctx context.Context, r *runtimeapi.StopPodSandboxRequest) (_ *runtimeapi.StopPodSandboxResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	sb, err := s.find(ctx, r.GetPodSandboxId())
	if errors.Is(err, errdefs.ErrNotFound) {
		return &runtimeapi.StopPodSandboxResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := s.stopSandbox(ctx, sb); err != nil {
		return nil, err
	}
	return &runtimeapi.StopPodSandboxResponse{}, nil
}

// stopSandbox stops sb; again on a stopped one, it does nothing.
func (s *Service) stopSandbox(ctx context.Context, sb *sandbox) error {
	log.G(ctx).WithField("id", sb.id).Info("cri: stop pod sandbox")
	ctrs, err := s.podContainers(ctx, sb.id)
	if err != nil {
		return err
	}
	for _, c := range ctrs {
		if err := s.stopContainer(ctx, c, syscall.SIGKILL, 0); err != nil {
			return err
		}
	}
	if err := s.stopTask(ctx, sb.id); err != nil {
		return err
	}
	if sb.netns != "" {
		return s.net.remove(ctx, sb.id, sb.netns, sb.cfg)
	}
	return nil
}

// stopTask kills the pause task with SIGKILL, waits up to s.stopTimeout for it to exit, and deletes it.
func (s *Service) stopTask(ctx context.Context, id string) error {
	c, err := s.client.LoadContainer(ctx, id)
	if err != nil {
		return fmt.Errorf("failed to load pause container of pod sandbox %s: %w", id, err)
	}
	task, err := c.Task(ctx, nil)
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to load pause task of pod sandbox %s: %w", id, err)
	}
	st, err := task.Status(ctx)
	if err != nil {
		return fmt.Errorf("failed to get pause task status of pod sandbox %s: %w", id, err)
	}
	if st.Status != containerd.Stopped {
		wctx, cancel := context.WithTimeout(ctx, s.stopTimeout)
		defer cancel()
		exited, err := task.Wait(wctx)
		if err != nil {
			return fmt.Errorf("failed to wait for pause task of pod sandbox %s: %w", id, err)
		}
		if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			return fmt.Errorf("failed to kill pause task of pod sandbox %s: %w", id, err)
		}
		select {
		case <-exited:
		case <-wctx.Done():
			return fmt.Errorf("pause task of pod sandbox %s did not exit within %s of SIGKILL: %w", id, s.stopTimeout, context.DeadlineExceeded)
		}
	}
	if _, err := task.Delete(ctx); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return fmt.Errorf("failed to delete pause task of pod sandbox %s: %w", id, err)
	}
	return nil
}

// RemovePodSandbox implements the CRI: it stops the sandbox if it runs, removes its containers, then
// its pause container,
// snapshot and files. An unknown sandbox is no error.
func (s *Service) RemovePodSandbox(ctx context.Context, r *runtimeapi.RemovePodSandboxRequest) (_ *runtimeapi.RemovePodSandboxResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	sb, err := s.find(ctx, r.GetPodSandboxId())
	if errors.Is(err, errdefs.ErrNotFound) {
		return &runtimeapi.RemovePodSandboxResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := s.stopSandbox(ctx, sb); err != nil {
		return nil, err
	}
	ctrs, err := s.podContainers(ctx, sb.id)
	if err != nil {
		return nil, err
	}
	for _, c := range ctrs {
		if err := s.removeContainer(ctx, c); err != nil {
			return nil, err
		}
	}
	c, err := s.client.LoadContainer(ctx, sb.id)
	if err == nil {
		err = c.Delete(ctx, containerd.WithSnapshotCleanup)
	}
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return nil, fmt.Errorf("failed to remove pause container of pod sandbox %s: %w", sb.id, err)
	}
	if err := removeDir(s.sandboxDir(sb.id)); err != nil {
		return nil, fmt.Errorf("failed to remove directory of pod sandbox %s: %w", sb.id, err)
	}
	return &runtimeapi.RemovePodSandboxResponse{}, nil
}
