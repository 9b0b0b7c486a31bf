package cri

import (
	eventtypes "github.com/containerd/containerd/api/events"
	"github.com/containerd/typeurl/v2"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// eventFilter selects the container and task events GetContainerEvents turns into CRI events.
const eventFilter = `topic~="^/(containers|tasks)/(create|delete|start|exit)$"`

// GetContainerEvents implements the CRI: corrald's container and task events of the CRI's
// containers (not pause containers, nor others in the namespace) as container created, started,
// stopped and deleted events, until the client leaves.
func (s *Service) GetContainerEvents(_ *runtimeapi.GetEventsRequest, stream runtimeapi.RuntimeService_GetContainerEventsServer) (retErr error) {
	defer toGRPC(&retErr)
	ctx := s.ns(stream.Context())
	evs, errs := s.client.EventService().Subscribe(ctx, `namespace==`+quote(s.cfg.Namespace)+`,`+eventFilter)
	ours := map[string]bool{}
	all, err := s.containers(ctx)
	if err != nil {
		return err
	}
	for _, c := range all {
		ours[c.id] = true
	}
	for {
		select {
		case err := <-errs:
			if ctx.Err() != nil {
				return nil
			}
			return err
		case e := <-evs:
			v, err := typeurl.UnmarshalAny(e.Event)
			if err != nil {
				continue
			}
			var id string
			var typ runtimeapi.ContainerEventType
			switch ev := v.(type) {
			case *eventtypes.ContainerCreate:
				id, typ = ev.ID, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT
				if rec, err := s.client.ContainerService().Get(ctx, id); err == nil && rec.Labels[labelKind] == kindContainer {
					ours[id] = true
				}
			case *eventtypes.TaskStart:
				id, typ = ev.ContainerID, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT
			case *eventtypes.TaskExit:
				if ev.ID != ev.ContainerID {
					continue // an exec's exit
				}
				id, typ = ev.ContainerID, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT
			case *eventtypes.ContainerDelete:
				id, typ = ev.ID, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT
			default:
				continue
			}
			if !ours[id] {
				continue
			}
			if typ == runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT {
				delete(ours, id)
			}
			if err := stream.Send(&runtimeapi.ContainerEventResponse{ContainerId: id, ContainerEventType: typ, CreatedAt: e.Timestamp.UnixNano()}); err != nil {
				return err
			}
		}
	}
}
