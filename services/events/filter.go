package events

import (
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/v2/pkg/filters"
	"github.com/containerd/typeurl/v2"
)

// adapt exposes an envelope's filter fields as containerd does: namespace, topic, and event.FIELD
// for the fields the event itself exposes, such as event.container_id of /tasks/exit.
func adapt(env *types.Envelope) filters.Adaptor {
	return filters.AdapterFunc(func(path []string) (string, bool) {
		switch {
		case len(path) == 0:
		case path[0] == "namespace":
			return env.Namespace, env.Namespace != ""
		case path[0] == "topic":
			return env.Topic, env.Topic != ""
		case path[0] == "event":
			ev, err := typeurl.UnmarshalAny(env.Event)
			if err != nil {
				return "", false
			}
			if a, ok := ev.(filters.Adaptor); ok {
				return a.Field(path[1:])
			}
		}
		return "", false
	})
}
