package cri

import (
	"context"
	"encoding/json"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ContainerStatus implements the CRI. Verbose adds "info": the pid, runtime, sandbox and config as
// JSON.
func (s *Service) ContainerStatus(ctx context.Context, r *runtimeapi.ContainerStatusRequest) (_ *runtimeapi.ContainerStatusResponse, retErr error) {
	defer toGRPC(&retErr)
	c, err := s.findContainer(s.ns(ctx), r.GetContainerId())
	if err != nil {
		return nil, err
	}
	st := &runtimeapi.ContainerStatus{
		Id: c.id, Metadata: c.cfg.GetMetadata(), State: c.state, CreatedAt: unixNano(c.created), StartedAt: unixNano(c.started),
		FinishedAt: unixNano(c.finished), ExitCode: c.exitCode, Image: c.cfg.GetImage(), ImageRef: c.imageID, ImageId: c.imageID,
		Reason: c.reason(), Labels: c.cfg.GetLabels(), Annotations: c.cfg.GetAnnotations(), Mounts: c.cfg.GetMounts(),
		LogPath: c.logPath, Resources: &runtimeapi.ContainerResources{Linux: c.cfg.GetLinux().GetResources()},
		User: containerUser(c.spec),
	}
	resp := &runtimeapi.ContainerStatusResponse{Status: st}
	if r.GetVerbose() {
		b, err := json.Marshal(map[string]any{"pid": c.pid, "runtime": c.runtime, "sandboxID": c.sandboxID, "config": c.cfg})
		if err != nil {
			return nil, err
		}
		resp.Info = map[string]string{"info": string(b)}
	}
	return resp, nil
}

// containerUser is the identity the container's process starts with, read from its spec as
// containerd reads it: the uid, gid and additional gids the runtime gives the process. A spec
// that does not parse gives none.
func containerUser(spec []byte) *runtimeapi.ContainerUser {
	var s specs.Spec
	if json.Unmarshal(spec, &s) != nil || s.Process == nil {
		return nil
	}
	u := s.Process.User
	groups := make([]int64, 0, len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		groups = append(groups, int64(g))
	}
	return &runtimeapi.ContainerUser{Linux: &runtimeapi.LinuxContainerUser{Uid: int64(u.UID), Gid: int64(u.GID), SupplementalGroups: groups}}
}

// ListContainers implements the CRI.
func (s *Service) ListContainers(ctx context.Context, r *runtimeapi.ListContainersRequest) (_ *runtimeapi.ListContainersResponse, retErr error) {
	defer toGRPC(&retErr)
	all, err := s.containers(s.ns(ctx))
	if err != nil {
		return nil, err
	}
	resp := &runtimeapi.ListContainersResponse{}
	for _, c := range all {
		if matchesContainer(r.GetFilter(), c) {
			resp.Containers = append(resp.Containers, &runtimeapi.Container{Id: c.id, PodSandboxId: c.sandboxID, Metadata: c.cfg.GetMetadata(),
				Image: c.cfg.GetImage(), ImageRef: c.imageID, ImageId: c.imageID, State: c.state, CreatedAt: unixNano(c.created),
				Labels: c.cfg.GetLabels(), Annotations: c.cfg.GetAnnotations()})
		}
	}
	return resp, nil
}

// matchesContainer says whether c passes the filter: its id and pod's id (or prefixes of them),
// state and every label of the selector.
func matchesContainer(f *runtimeapi.ContainerFilter, c *ctr) bool {
	if f == nil {
		return true
	}
	if f.GetId() != "" && !hasPrefix(c.id, f.GetId()) {
		return false
	}
	if f.GetPodSandboxId() != "" && !hasPrefix(c.sandboxID, f.GetPodSandboxId()) {
		return false
	}
	if f.GetState() != nil && f.GetState().GetState() != c.state {
		return false
	}
	for k, v := range f.GetLabelSelector() {
		if got, ok := c.cfg.GetLabels()[k]; !ok || got != v {
			return false
		}
	}
	return true
}
