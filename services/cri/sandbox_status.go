package cri

import (
	"context"
	"encoding/json"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PodSandboxStatus implements the CRI. Verbose adds "info": the runtime, pid, network namespace and
// sandbox image as JSON.
func (s *Service) PodSandboxStatus(ctx context.Context, r *runtimeapi.PodSandboxStatusRequest) (_ *runtimeapi.PodSandboxStatusResponse, retErr error) {
	defer toGRPC(&retErr)
	sb, err := s.find(s.ns(ctx), r.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	st := &runtimeapi.PodSandboxStatus{
		Id: sb.id, Metadata: sb.cfg.GetMetadata(), State: sb.state, CreatedAt: unixNano(sb.created),
		Linux: &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{
			Options: sb.cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()}},
		Labels: sb.cfg.GetLabels(), Annotations: sb.cfg.GetAnnotations(), RuntimeHandler: sb.handler,
	}
	if len(sb.ips) > 0 {
		st.Network = &runtimeapi.PodSandboxNetworkStatus{Ip: sb.ips[0]}
		for _, ip := range sb.ips[1:] {
			st.Network.AdditionalIps = append(st.Network.AdditionalIps, &runtimeapi.PodIP{Ip: ip})
		}
	}
	resp := &runtimeapi.PodSandboxStatusResponse{Status: st}
	if r.GetVerbose() {
		b, err := json.Marshal(map[string]any{"pid": sb.pid, "runtime": sb.runtime, "netns": sb.netns,
			"image": s.sandboxImage(), "config": sb.cfg})
		if err != nil {
			return nil, err
		}
		resp.Info = map[string]string{"info": string(b)}
	}
	return resp, nil
}

// ListPodSandbox implements the CRI.
func (s *Service) ListPodSandbox(ctx context.Context, r *runtimeapi.ListPodSandboxRequest) (_ *runtimeapi.ListPodSandboxResponse, retErr error) {
	defer toGRPC(&retErr)
	all, err := s.sandboxes(s.ns(ctx))
	if err != nil {
		return nil, err
	}
	resp := &runtimeapi.ListPodSandboxResponse{}
	for _, sb := range all {
		if matches(r.GetFilter(), sb) {
			resp.Items = append(resp.Items, &runtimeapi.PodSandbox{Id: sb.id, Metadata: sb.cfg.GetMetadata(), State: sb.state,
				CreatedAt: unixNano(sb.created), Labels: sb.cfg.GetLabels(), Annotations: sb.cfg.GetAnnotations(), RuntimeHandler: sb.handler})
		}
	}
	return resp, nil
}

// matches says whether sb passes the filter: its id (or a prefix of it), state and every label of
// the selector.
func matches(f *runtimeapi.PodSandboxFilter, sb *sandbox) bool {
	if f == nil {
		return true
	}
	if f.GetId() != "" && !hasPrefix(sb.id, f.GetId()) {
		return false
	}
	if f.GetState() != nil && f.GetState().GetState() != sb.state {
		return false
	}
	for k, v := range f.GetLabelSelector() {
		if got, ok := sb.cfg.GetLabels()[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// unixNano is t in nanoseconds, 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
