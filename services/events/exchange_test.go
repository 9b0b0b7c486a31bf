package events

import (
	"context"
	"errors"
	"reflect"
	"testing"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

// drain returns what ch holds now; Forward delivers synchronously, so nothing is in flight.
func drain(ch <-chan *types.Envelope) []*types.Envelope {
	var out []*types.Envelope
	for {
		select {
		case env := <-ch:
			out = append(out, env)
		default:
			return out
		}
	}
}

func TestSubscribeFilters(t *testing.T) {
	sent := []struct {
		ns, topic string
		event     proto.Message
	}{
		{"default", "/tasks/exit", &apievents.TaskExit{ContainerID: "c1"}},
		{"default", "/tasks/create", &apievents.TaskCreate{ContainerID: "c2"}},
		{"other", "/tasks/exit", &apievents.TaskExit{ContainerID: "c2"}},
		{"default", "/containers/create", &apievents.ContainerCreate{ID: "c1"}},
		{"default", "/x", &emptypb.Empty{}},
	}
	for _, tc := range []struct {
		filters []string
		want    []int // indexes into sent
	}{
		{nil, []int{0, 1, 2, 3, 4}},
		{[]string{``}, []int{0, 1, 2, 3, 4}},
		{[]string{`topic=="/tasks/exit"`}, []int{0, 2}},
		{[]string{`topic~="^/tasks/"`}, []int{0, 1, 2}},
		{[]string{`namespace==other`}, []int{2}},
		{[]string{`namespace==default,topic~="/create$"`}, []int{1, 3}},
		{[]string{`topic=="/tasks/create"`, `namespace==other`}, []int{1, 2}},
		{[]string{`event.container_id==c2`}, []int{1, 2}},
		{[]string{`event.container_id==c2,namespace==default`}, []int{1}},
		{[]string{`event.id==c1`}, []int{3}},
		{[]string{`event.container_id`}, []int{0, 1, 2}},
		{[]string{`topic`}, []int{0, 1, 2, 3, 4}},
		{[]string{`event.container_id!=c1`}, []int{1, 2, 3, 4}},
		{[]string{`namespace==nobody`}, nil},
	} {
		e := NewExchange()
		ch, cancel, err := e.Subscribe(tc.filters...)
		if err != nil {
			t.Fatalf("Subscribe(%q): %v", tc.filters, err)
		}
		for _, s := range sent {
			e.Publish(context.Background(), s.ns, s.topic, s.event)
		}
		var got []int
		for _, env := range drain(ch) {
			for i, s := range sent {
				if env.Namespace == s.ns && env.Topic == s.topic {
					got = append(got, i)
				}
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("filters %q received %v, want %v", tc.filters, got, tc.want)
		}
		cancel()
	}
}

func TestSubscribeInvalidFilter(t *testing.T) {
	for _, f := range []string{`topic==`, `==x`, `topic=="a`, `topic==a && id==b`, `topic==a,`} {
		if _, _, err := NewExchange().Subscribe(f); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Subscribe(%q): %v, want InvalidArgument", f, err)
		}
	}
}

func TestPublish(t *testing.T) {
	ctx := context.Background()
	e := NewExchange()
	match, cancelMatch, err := e.Subscribe(`topic=="/tasks/exit"`)
	if err != nil {
		t.Fatal(err)
	}
	other, cancelOther, err := e.Subscribe(`namespace==elsewhere`)
	if err != nil {
		t.Fatal(err)
	}
	defer cancelOther()

	e.Publish(ctx, "ns1", "/tasks/exit", &apievents.TaskExit{ContainerID: "c1", ExitStatus: 3})
	got := drain(match)
	if len(got) != 1 {
		t.Fatalf("matching subscriber got %d events, want 1", len(got))
	}
	env := got[0]
	if env.Namespace != "ns1" || env.Topic != "/tasks/exit" || env.Timestamp == nil {
		t.Fatalf("envelope %v", env)
	}
	if env.Event.GetTypeUrl() != "containerd.events.TaskExit" {
		t.Fatalf("type URL %q, want the bare containerd.events.TaskExit", env.Event.GetTypeUrl())
	}
	v, err := typeurl.UnmarshalAny(env.Event)
	if err != nil {
		t.Fatal(err)
	}
	if x, ok := v.(*apievents.TaskExit); !ok || x.ContainerID != "c1" || x.ExitStatus != 3 {
		t.Fatalf("event decodes to %#v", v)
	}
	if n := len(drain(other)); n != 0 {
		t.Fatalf("non-matching subscriber got %d events", n)
	}

	cancelMatch()
	e.Publish(ctx, "ns1", "/tasks/exit", &apievents.TaskExit{ContainerID: "c2"})
	if n := len(drain(match)); n != 0 {
		t.Fatalf("cancelled subscriber got %d events", n)
	}
}

func TestPublishSlowSubscriberDoesNotBlock(t *testing.T) {
	e := NewExchange()
	ch, cancel, err := e.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	for i := 0; i < cap(ch)+10; i++ {
		e.Publish(context.Background(), "ns", "/t", &emptypb.Empty{})
	}
	if n := len(drain(ch)); n != cap(ch) {
		t.Fatalf("got %d events, want the %d buffered", n, cap(ch))
	}
}
