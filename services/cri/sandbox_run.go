package cri

import (
	"context"
	"errors"
	"fmt"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RunPodSandbox implements the CRI: it reserves the pod's name, makes its network namespace and
// attaches it to the CNI network (unless it uses the host's), writes its files, and creates and
// starts the pause container from sandbox_image on the runtime its handler maps to, in the pod's
// user namespace if it asks for one (userns.go). A failure leaves nothing behind.
func (s *Service) RunPodSandbox(ctx context.Context, r *runtimeapi.RunPodSandboxRequest) (_ *runtimeapi.RunPodSandboxResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	cfg := r.GetConfig()
	md := cfg.GetMetadata()
	if md.GetName() == "" || md.GetNamespace() == "" {
		return nil, fmt.Errorf("pod sandbox config needs metadata with a name and a namespace: %w", errdefs.ErrInvalidArgument)
	}
	rt, err := s.runtime(r.GetRuntimeHandler())
	if err != nil {
		return nil, err
	}
	u, err := podUserns(cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetUsernsOptions())
	if err != nil {
		return nil, err
	}
	if err := s.checkUserns(u, r.GetRuntimeHandler(), rt); err != nil {
		return nil, err
	}
	id, name := newID(), podName(md)
	if err := s.reserve(ctx, "pod sandbox", name, id); err != nil {
		return nil, err
	}
	defer s.release(name)
	log.G(ctx).WithFields(log.Fields{"id": id, "name": name, "runtime": rt}).Info("cri: run pod sandbox")

	img, err := s.pauseImage(ctx)
	if err != nil {
		return nil, err
	}
	dir := s.sandboxDir(id)
	defer func() {
		if retErr != nil {
			_ = removeDir(dir)
		}
	}()
	if err := writeFiles(dir, cfg, hostNetwork(cfg)); err != nil {
		return nil, err
	}
	if !hostIPC(cfg) {
		if err := mountShm(dir); err != nil {
			return nil, err
		}
	}
	labels := map[string]string{labelKind: kindSandbox, labelName: name, labelHandler: r.GetRuntimeHandler()}
	if !hostNetwork(cfg) {
		netns, ips, err := s.net.create(ctx, id, cfg, u, dir)
		if err != nil {
			return nil, err
		}
		defer func() {
			if retErr != nil {
				if err := s.net.remove(context.WithoutCancel(ctx), id, netns, cfg); err != nil {
					log.G(ctx).WithError(err).Warn("cri: failed to clean up network of a pod sandbox that failed to run")
				}
			}
		}()
		labels[labelNetNS], labels[labelIPs] = netns, strings.Join(ips, ",")
	}
	specOpts, err := s.sandboxSpec(id, cfg, img, labels[labelNetNS], dir, u)
	if err != nil {
		return nil, err
	}
	c, err := s.client.NewContainer(ctx, id, containerd.WithImage(img), containerd.WithSnapshotter(s.snap), containerd.WithNewSnapshot(id, img, u.snapshotOpts()...),
		containerd.WithRuntime(rt, nil), containerd.WithNewSpec(specOpts...), containerd.WithContainerLabels(labels),
		containerd.WithContainerExtension(extConfig, cfg))
	if err != nil {
		return nil, fmt.Errorf("failed to create pause container of pod sandbox %s on runtime %s: %w", id, rt, err)
	}
	defer func() {
		if retErr != nil {
			if err := c.Delete(context.WithoutCancel(ctx), containerd.WithSnapshotCleanup); err != nil {
				log.G(ctx).WithError(err).Warn("cri: failed to remove the pause container of a pod sandbox that failed to run")
			}
		}
	}()
	task, err := c.NewTask(ctx, cio.NullIO)
	if err != nil {
		return nil, fmt.Errorf("failed to create pause task of pod sandbox %s on runtime %s: %w", id, rt, err)
	}
	if err := task.Start(ctx); err != nil {
		_, _ = task.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill)
		return nil, fmt.Errorf("failed to start pause task of pod sandbox %s on runtime %s: %w", id, rt, err)
	}
	return &runtimeapi.RunPodSandboxResponse{PodSandboxId: id}, nil
}

// pauseImage is sandbox_image, unpacked; pulled through [cri.registry] if it is not there.
func (s *Service) pauseImage(ctx context.Context) (containerd.Image, error) {
	img, err := s.client.GetImage(ctx, s.sandboxImage())
	if errors.Is(err, errdefs.ErrNotFound) {
		if _, err := s.pull(ctx, s.sandboxImage(), nil); err != nil {
			return nil, fmt.Errorf("failed to pull sandbox image %s (cri.sandbox_image): %w", s.sandboxImage(), err)
		}
		img, err = s.client.GetImage(ctx, s.sandboxImage())
	}
	if err != nil {
		return nil, fmt.Errorf("failed to get sandbox image %s: %w", s.sandboxImage(), err)
	}
	return img, s.unpack(ctx, img)
}

// unpack unpacks img into the CRI's snapshotter unless it is already.
func (s *Service) unpack(ctx context.Context, img containerd.Image) error {
	if ok, err := img.IsUnpacked(ctx, s.snap); err != nil || !ok {
		if err := img.Unpack(ctx, s.snap); err != nil {
			return fmt.Errorf("failed to unpack image %s: %w", img.Name(), err)
		}
	}
	return nil
}

// reserve claims the name of a pod or container (what) for id: AlreadyExists while another has it
// or is being made with it.
func (s *Service) reserve(ctx context.Context, what, name, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if other, ok := s.running[name]; ok {
		return fmt.Errorf("%s name %q is reserved for %s: %w", what, name, other, errdefs.ErrAlreadyExists)
	}
	recs, err := s.client.ContainerService().List(ctx, "labels."+quote(labelName)+"=="+quote(name))
	if err != nil {
		return fmt.Errorf("failed to check %s name %q: %w", what, name, err)
	}
	if len(recs) > 0 {
		return fmt.Errorf("%s name %q is reserved for %s: %w", what, name, recs[0].ID, errdefs.ErrAlreadyExists)
	}
	s.running[name] = id
	return nil
}

// release ends a run's claim; from then on the container's label holds the name.
func (s *Service) release(name string) {
	s.mu.Lock()
	delete(s.running, name)
	s.mu.Unlock()
}
