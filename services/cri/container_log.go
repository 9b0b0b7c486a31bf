package cri

import (
	"context"
	"fmt"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/corral-dev/corral/api/keeper"
)

// ReopenContainerLog implements the CRI: the container's keeper reopens its log at the kubelet's
// path, which the kubelet moved away to rotate it. The container must be running.
func (s *Service) ReopenContainerLog(ctx context.Context, r *runtimeapi.ReopenContainerLogRequest) (_ *runtimeapi.ReopenContainerLogResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	c, err := s.findContainer(ctx, r.GetContainerId())
	if err != nil {
		return nil, err
	}
	if c.state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return nil, fmt.Errorf("container %s is %s, not running: %w", c.id, c.state, errdefs.ErrFailedPrecondition)
	}
	if c.logPath == "" {
		return nil, fmt.Errorf("container %s has no log path: %w", c.id, errdefs.ErrFailedPrecondition)
	}
	task, _, err := s.loadTask(ctx, c.id)
	if err != nil {
		return nil, err
	}
	if err := task.Update(ctx, containerd.WithAnnotations(map[string]string{keeper.AnnotationReopenLog: "true"})); err != nil {
		return nil, fmt.Errorf("failed to reopen the log of container %s: %w", c.id, err)
	}
	return &runtimeapi.ReopenContainerLogResponse{}, nil
}
