package cri

import (
	"context"
	"fmt"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/types/known/anypb"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// UpdateContainerResources implements the CRI: it writes the new limits into the container's spec
// and config, so that they hold for its next task too, and applies them to its running task.
func (s *Service) UpdateContainerResources(ctx context.Context, r *runtimeapi.UpdateContainerResourcesRequest) (_ *runtimeapi.UpdateContainerResourcesResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	res := r.GetLinux()
	if res == nil {
		return nil, fmt.Errorf("update needs linux resources: %w", errdefs.ErrInvalidArgument)
	}
	c, err := s.findContainer(ctx, r.GetContainerId())
	if err != nil {
		return nil, err
	}
	cc, err := s.client.LoadContainer(ctx, c.id)
	if err != nil {
		return nil, fmt.Errorf("failed to load container %s: %w", c.id, err)
	}
	spec, err := cc.Spec(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to read spec of container %s: %w", c.id, err)
	}
	applyResources(spec, res)
	if c.cfg.Linux == nil {
		c.cfg.Linux = &runtimeapi.LinuxContainerConfig{}
	}
	c.cfg.Linux.Resources = res
	ext, err := typeurl.MarshalAnyToProto(c.cfg)
	if err != nil {
		return nil, err
	}
	if err := cc.Update(ctx, func(_ context.Context, _ *containerd.Client, rec *containers.Container) error {
		if rec.Spec, err = typeurl.MarshalAnyToProto(spec); err != nil {
			return err
		}
		rec.Extensions[extContainerConfig] = (*anypb.Any)(ext)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("failed to update resources of container %s: %w", c.id, err)
	}
	if c.state == runtimeapi.ContainerState_CONTAINER_RUNNING {
		task, err := cc.Task(ctx, nil)
		if err == nil {
			res := *spec.Linux.Resources
			res.Devices = nil // set at start; runtimes such as LXC cannot change them
			err = task.Update(ctx, containerd.WithResources(&res))
		}
		if err != nil {
			return nil, fmt.Errorf("failed to update resources of the task of container %s: %w", c.id, err)
		}
	}
	return &runtimeapi.UpdateContainerResourcesResponse{}, nil
}
