package cri

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Labels and extensions of a sandbox's container: the CRI's metadata, kept with the container.
const (
	// labelKind tells sandboxes from (later) CRI containers, with containerd's CRI's label.
	labelKind   = "io.cri-containerd.kind"
	kindSandbox = "sandbox"
	// labelName reserves the pod's name: name_namespace_uid_attempt.
	labelName = "io.corral.cri.name"
	// labelHandler is the RuntimeClass handler the pod was run with.
	labelHandler = "io.corral.cri.handler"
	// labelNetNS is the network namespace corrald made for the pod; none for host network.
	labelNetNS = "io.corral.cri.netns"
	// labelIPs are the pod's IPs, the primary first, comma-separated.
	labelIPs = "io.corral.cri.ips"
	// extConfig is the PodSandboxConfig the pod was run with.
	extConfig = "io.corral.cri.sandbox-config"
)

// sandbox is a pod sandbox as read back from its container and task.
type sandbox struct {
	id      string
	created time.Time
	cfg     *runtimeapi.PodSandboxConfig
	handler string
	runtime string
	netns   string
	ips     []string
	state   runtimeapi.PodSandboxState
	pid     uint32
}

// podName is the name a pod reserves, unique among the namespace's sandboxes.
func podName(md *runtimeapi.PodSandboxMetadata) string {
	return strings.Join([]string{md.GetName(), md.GetNamespace(), md.GetUid(), strconv.FormatUint(uint64(md.GetAttempt()), 10)}, "_")
}

// sandboxes lists the pod sandboxes of the CRI's namespace, with their tasks' states.
func (s *Service) sandboxes(ctx context.Context) ([]*sandbox, error) {
	recs, err := s.client.ContainerService().List(ctx, "labels."+quote(labelKind)+"=="+quote(kindSandbox))
	if err != nil {
		return nil, fmt.Errorf("failed to list pod sandboxes: %w", err)
	}
	tasks, err := s.client.TaskService().List(ctx, &tasksapi.ListTasksRequest{})
	if err != nil {
		return nil, fmt.Errorf("failed to list tasks of pod sandboxes: %w", err)
	}
	running := map[string]uint32{}
	for _, t := range tasks.GetTasks() {
		if t.GetStatus() == task.Status_RUNNING {
			running[t.GetID()] = t.GetPid()
		}
	}
	out := make([]*sandbox, 0, len(recs))
	for _, rec := range recs {
		sb := fromContainer(rec)
		if pid, ok := running[sb.id]; ok {
			sb.state, sb.pid = runtimeapi.PodSandboxState_SANDBOX_READY, pid
		}
		out = append(out, sb)
	}
	return out, nil
}

// fromContainer reads a sandbox's metadata back from its container record.
func fromContainer(c containers.Container) *sandbox {
	sb := &sandbox{id: c.ID, created: c.CreatedAt, cfg: &runtimeapi.PodSandboxConfig{}, handler: c.Labels[labelHandler],
		runtime: c.Runtime.Name, netns: c.Labels[labelNetNS], state: runtimeapi.PodSandboxState_SANDBOX_NOTREADY}
	if ips := c.Labels[labelIPs]; ips != "" {
		sb.ips = strings.Split(ips, ",")
	}
	if ext, ok := c.Extensions[extConfig]; ok {
		_ = proto.Unmarshal(ext.GetValue(), sb.cfg)
	}
	return sb
}

// find returns the sandbox whose id is id or starts with it; NotFound if none does.
func (s *Service) find(ctx context.Context, id string) (*sandbox, error) {
	if id == "" {
		return nil, fmt.Errorf("pod sandbox id is required: %w", errdefs.ErrInvalidArgument)
	}
	all, err := s.sandboxes(ctx)
	if err != nil {
		return nil, err
	}
	return byID("pod sandbox", id, all, func(sb *sandbox) string { return sb.id })
}
