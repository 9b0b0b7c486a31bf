package cri

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ExecSync implements the CRI: it runs cmd in the running container with the container's process
// settings, and returns its exit code and output. Past the timeout (none if 0) the exec is killed
// and the call fails with DeadlineExceeded.
func (s *Service) ExecSync(ctx context.Context, r *runtimeapi.ExecSyncRequest) (_ *runtimeapi.ExecSyncResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	if len(r.GetCmd()) == 0 {
		return nil, fmt.Errorf("exec needs a command: %w", errdefs.ErrInvalidArgument)
	}
	c, err := s.findContainer(ctx, r.GetContainerId())
	if err != nil {
		return nil, err
	}
	if c.state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return nil, fmt.Errorf("container %s is %s, not running: %w", c.id, c.state, errdefs.ErrFailedPrecondition)
	}
	task, base, err := s.loadTask(ctx, c.id)
	if err != nil {
		return nil, err
	}
	pspec := *base
	pspec.Args, pspec.Terminal = r.GetCmd(), false
	var stdout, stderr bytes.Buffer
	execID := "exec-" + newID()[:16]
	proc, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(cio.WithStreams(nil, &stdout, &stderr)))
	if err != nil {
		return nil, fmt.Errorf("failed to exec in container %s: %w", c.id, err)
	}
	defer func() { _, _ = proc.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill) }()
	exited, err := proc.Wait(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to wait for exec in container %s: %w", c.id, err)
	}
	if err := proc.Start(ctx); err != nil {
		return nil, fmt.Errorf("failed to start exec in container %s: %w", c.id, err)
	}
	var timeout <-chan time.Time
	if r.GetTimeout() > 0 {
		timeout = time.After(time.Duration(r.GetTimeout()) * time.Second)
	}
	select {
	case st := <-exited:
		code, _, err := st.Result()
		if err != nil {
			return nil, fmt.Errorf("failed to exec in container %s: %w", c.id, err)
		}
		proc.IO().Wait()
		return &runtimeapi.ExecSyncResponse{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: int32(code)}, nil
	case <-timeout:
		if err := proc.Kill(ctx, syscall.SIGKILL); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			return nil, fmt.Errorf("failed to kill exec in container %s past its timeout: %w", c.id, err)
		}
		<-exited
		return nil, fmt.Errorf("exec in container %s timed out after %ds: %w", c.id, r.GetTimeout(), context.DeadlineExceeded)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
