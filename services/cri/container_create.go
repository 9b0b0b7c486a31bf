package cri

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/apparmor"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/api/keeper"
)

// criLogMaxSize keeps a keeper from rotating a CRI log: kubelet rotates it and then calls
// ReopenContainerLog.
const criLogMaxSize = "1t"

// CreateContainer implements the CRI: a container on its pod's runtime, in its pod's namespaces
// (its user namespace included), with a snapshot of its image and its image volumes mounted, whose
// keeper writes its output in the CRI log format to the pod's log directory joined with the
// config's log path. Its task is created when it starts.
func (s *Service) CreateContainer(ctx context.Context, r *runtimeapi.CreateContainerRequest) (_ *runtimeapi.CreateContainerResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	cfg := proto.Clone(r.GetConfig()).(*runtimeapi.ContainerConfig) // image mounts get their host paths
	if cfg.GetMetadata().GetName() == "" {
		return nil, fmt.Errorf("container config needs metadata with a name: %w", errdefs.ErrInvalidArgument)
	}
	if cfg.GetImage().GetImage() == "" {
		return nil, fmt.Errorf("container config needs an image: %w", errdefs.ErrInvalidArgument)
	}
	sb, err := s.find(ctx, r.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	if sb.state != runtimeapi.PodSandboxState_SANDBOX_READY {
		return nil, fmt.Errorf("pod sandbox %s is not ready: %w", sb.id, errdefs.ErrFailedPrecondition)
	}
	podNS := sb.cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetUsernsOptions()
	if err := containerUserns(podNS, cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetUsernsOptions()); err != nil {
		return nil, err
	}
	u, err := podUserns(podNS)
	if err != nil {
		return nil, err
	}
	id, name := newID(), containerName(cfg.GetMetadata(), sb.cfg.GetMetadata())
	if err := s.reserve(ctx, "container", name, id); err != nil {
		return nil, err
	}
	defer s.release(name)
	log.G(ctx).WithFields(log.Fields{"id": id, "name": name, "sandbox": sb.id}).Info("cri: create container")

	found, err := s.findImage(ctx, cfg.GetImage().GetImage())
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil, fmt.Errorf("image %q is not in namespace %s: pull or import it first: %w", cfg.GetImage().GetImage(), s.cfg.Namespace, err)
	}
	if err != nil {
		return nil, err
	}
	img, err := s.client.GetImage(ctx, found.names[0])
	if err != nil {
		return nil, fmt.Errorf("failed to get image %s: %w", found.names[0], err)
	}
	if err := s.unpack(ctx, img); err != nil {
		return nil, err
	}
	own, err := ownOOMScoreAdj()
	if err != nil {
		return nil, err
	}
	if err := s.mountImageVolumes(ctx, id, cfg); err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			retErr = errors.Join(retErr, s.removeImageVolumes(context.WithoutCancel(ctx), id))
		}
	}()
	specOpts, err := containerSpec(specInput{id: id, cfg: cfg, pod: sb.cfg, podID: sb.id, podPID: sb.pid, netns: sb.netns,
		podDir: s.sandboxDir(sb.id), handler: sb.handler, runtime: sb.runtime, features: s.features[sb.runtime], userns: u, image: found.config.Config, ownOOM: own, seccomp: hasSeccomp(), apparmor: apparmor.HostSupports()})
	if err != nil {
		return nil, err
	}
	labels := map[string]string{labelKind: kindContainer, labelName: name, labelSandboxID: sb.id, labelHandler: sb.handler,
		labelImage: cfg.GetImage().GetImage(), labelImageID: found.id}
	if dir, p := sb.cfg.GetLogDirectory(), cfg.GetLogPath(); dir != "" && p != "" {
		labels[labelLogPath] = filepath.Join(dir, p)
		labels[api.LabelLog], labels[api.LabelLogFile] = keeper.LogFormatCRI, labels[labelLogPath]
		labels[api.LabelLogMaxSize], labels[api.LabelLogMaxFile] = criLogMaxSize, "1"
	}
	_, err = s.client.NewContainer(ctx, id, containerd.WithImage(img), containerd.WithSnapshotter(s.snap), containerd.WithNewSnapshot(id, img, u.snapshotOpts()...),
		containerd.WithRuntime(sb.runtime, nil), containerd.WithNewSpec(specOpts...), containerd.WithContainerLabels(labels),
		containerd.WithContainerExtension(extContainerConfig, cfg))
	if err != nil {
		return nil, fmt.Errorf("failed to create container %s in pod sandbox %s on runtime %s: %w", id, sb.id, sb.runtime, err)
	}
	return &runtimeapi.CreateContainerResponse{ContainerId: id}, nil
}
