package cri

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types/task"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Labels and extensions of a CRI container's record, next to labelKind, labelName and labelHandler.
const (
	kindContainer = "container"
	// labelSandboxID is the pod sandbox the container belongs to.
	labelSandboxID = "io.corral.cri.sandbox-id"
	// labelImage is the image as the CRI named it; labelImageID its config digest.
	labelImage   = "io.corral.cri.image"
	labelImageID = "io.corral.cri.image-id"
	// labelLogPath is the container's log: the pod's log directory joined with the config's log path.
	labelLogPath = "io.corral.cri.log-path"
	// labelStartedAt is when StartContainer started the task (RFC 3339).
	labelStartedAt = "io.corral.cri.started-at"
	// extContainerConfig is the ContainerConfig the container was created with.
	extContainerConfig = "io.corral.cri.container-config"
)

// ctr is a CRI container as read back from its record and task.
type ctr struct {
	id, sandboxID    string
	created, started time.Time
	finished         time.Time
	cfg              *runtimeapi.ContainerConfig
	image, imageID   string
	logPath          string
	runtime          string
	state            runtimeapi.ContainerState
	pid              uint32
	exitCode         int32
	oomKilled        bool   // the OOM killer killed one of its processes
	spec             []byte // its OCI spec, JSON
}

// containerName is the name a container reserves: its name, its pod's name, and its attempt.
func containerName(md *runtimeapi.ContainerMetadata, pod *runtimeapi.PodSandboxMetadata) string {
	return strings.Join([]string{md.GetName(), pod.GetName(), pod.GetNamespace(), pod.GetUid(), strconv.FormatUint(uint64(md.GetAttempt()), 10)}, "_")
}

// containers lists the CRI containers of the namespace with their tasks' states.
func (s *Service) containers(ctx context.Context) ([]*ctr, error) {
	recs, err := s.client.ContainerService().List(ctx, "labels."+quote(labelKind)+"=="+quote(kindContainer))
	if err != nil {
		return nil, fmt.Errorf("failed to list containers: %w", err)
	}
	tasks, err := s.client.TaskService().List(ctx, &tasksapi.ListTasksRequest{})
	if err != nil {
		return nil, fmt.Errorf("failed to list tasks of containers: %w", err)
	}
	byID := map[string]*task.Process{}
	for _, t := range tasks.GetTasks() {
		byID[t.GetID()] = t
	}
	out := make([]*ctr, 0, len(recs))
	for _, rec := range recs {
		c := fromRecord(rec, byID[rec.ID])
		c.oomKilled = c.state == runtimeapi.ContainerState_CONTAINER_EXITED && s.oomKilled(rec)
		out = append(out, c)
	}
	return out, nil
}

// fromRecord reads a container back from its record and its task (nil if it has none): CREATED
// until started, RUNNING while its task runs, EXITED once it stopped or its task is gone.
func fromRecord(rec containers.Container, t *task.Process) *ctr {
	c := &ctr{id: rec.ID, sandboxID: rec.Labels[labelSandboxID], created: rec.CreatedAt, cfg: &runtimeapi.ContainerConfig{},
		image: rec.Labels[labelImage], imageID: rec.Labels[labelImageID], logPath: rec.Labels[labelLogPath],
		runtime: rec.Runtime.Name, state: runtimeapi.ContainerState_CONTAINER_CREATED}
	if rec.Spec != nil {
		c.spec = rec.Spec.GetValue()
	}
	if ext, ok := rec.Extensions[extContainerConfig]; ok {
		_ = proto.Unmarshal(ext.GetValue(), c.cfg)
	}
	if v, err := time.Parse(time.RFC3339Nano, rec.Labels[labelStartedAt]); err == nil {
		c.started = v
	}
	switch {
	case t != nil && (t.GetStatus() == task.Status_RUNNING || t.GetStatus() == task.Status_PAUSED || t.GetStatus() == task.Status_PAUSING):
		c.state, c.pid = runtimeapi.ContainerState_CONTAINER_RUNNING, t.GetPid()
	case t != nil && t.GetStatus() == task.Status_STOPPED:
		c.state, c.exitCode = runtimeapi.ContainerState_CONTAINER_EXITED, int32(t.GetExitStatus())
		if t.GetExitedAt() != nil {
			c.finished = t.GetExitedAt().AsTime()
		}
	case t == nil && !c.started.IsZero():
		c.state = runtimeapi.ContainerState_CONTAINER_EXITED
	case t != nil && t.GetStatus() == task.Status_UNKNOWN:
		c.state = runtimeapi.ContainerState_CONTAINER_UNKNOWN
	}
	return c
}

// findContainer returns the container whose id is id or starts with it; NotFound if none does.
func (s *Service) findContainer(ctx context.Context, id string) (*ctr, error) {
	if id == "" {
		return nil, fmt.Errorf("container id is required: %w", errdefs.ErrInvalidArgument)
	}
	all, err := s.containers(ctx)
	if err != nil {
		return nil, err
	}
	return byID("container", id, all, func(c *ctr) string { return c.id })
}

// byID returns the one of all, things of a kind what, whose id (idOf) is id, or else the one whose
// id starts with it: InvalidArgument if several do, NotFound if none does.
func byID[T any](what, id string, all []T, idOf func(T) string) (T, error) {
	var found T
	n := 0
	for _, v := range all {
		if idOf(v) == id {
			return v, nil
		}
		if strings.HasPrefix(idOf(v), id) {
			found, n = v, n+1
		}
	}
	switch n {
	case 0:
		return found, fmt.Errorf("%s %s: %w", what, id, errdefs.ErrNotFound)
	case 1:
		return found, nil
	}
	var zero T
	return zero, fmt.Errorf("%s id prefix %q is ambiguous: %w", what, id, errdefs.ErrInvalidArgument)
}

// reason is why a container exited, as kubelet expects it.
func (c *ctr) reason() string {
	switch {
	case c.state != runtimeapi.ContainerState_CONTAINER_EXITED:
		return ""
	case c.oomKilled:
		return "OOMKilled"
	case c.exitCode == 0:
		return "Completed"
	default:
		return "Error"
	}
}

// loadTask loads container id and its task, with the process spec its execs start from.
func (s *Service) loadTask(ctx context.Context, id string) (containerd.Task, *specs.Process, error) {
	cc, err := s.client.LoadContainer(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to load container %s: %w", id, err)
	}
	spec, err := cc.Spec(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to read spec of container %s: %w", id, err)
	}
	task, err := cc.Task(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to load task of container %s: %w", id, err)
	}
	return task, spec.Process, nil
}
