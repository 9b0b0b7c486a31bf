package commands

import (
	"strings"
	"testing"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/api/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestFormatEvent(t *testing.T) {
	exit, err := proto.Marshal(&apievents.TaskExit{ContainerID: "c1", Pid: 42, ExitStatus: 3})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		event *anypb.Any
		want  string // after the time
	}{
		{"known", &anypb.Any{TypeUrl: "containerd.events.TaskExit", Value: exit},
			`default /tasks/exit {"container_id":"c1","pid":42,"exit_status":3}`},
		{"unknown", &anypb.Any{TypeUrl: "example.com/Nope", Value: []byte{1}}, "default /tasks/exit example.com/Nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := formatEvent(&types.Envelope{Timestamp: timestamppb.New(at), Namespace: "default", Topic: "/tasks/exit", Event: tc.event})
			when, rest, _ := strings.Cut(got, " ")
			if parsed, err := time.Parse(time.RFC3339Nano, when); err != nil || !parsed.Equal(at) || rest != tc.want {
				t.Errorf("formatEvent = %q, want %s %s", got, at.Local().Format(time.RFC3339Nano), tc.want)
			}
		})
	}
}
