package integration

import (
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestContainerdClientMetadata drives filters, labels and field paths with containerd's Go client.
func TestContainerdClientMetadata(t *testing.T) {
	d := startDaemon(t, "")
	c, ctx := d.containerdClient(t)
	big := strings.Repeat("x", 4096)

	// Containers: a label filter, SetLabels (field paths labels.KEY), extensions.NAME, the size limit.
	a := newContainer(t, c, ctx, apiID("a"), "runc", map[string]string{"k": "v"}, "true")
	newContainer(t, c, ctx, apiID("b"), "runc", map[string]string{"k": "w"}, "true")
	list, err := c.Containers(ctx, `labels."k"==v`)
	if err != nil || len(list) != 1 || list[0].ID() != a.ID() {
		t.Errorf("containers with labels.\"k\"==v: %v, %v; want only %s", list, err, a.ID())
	}
	for _, tc := range []struct{ set, want map[string]string }{
		{map[string]string{"k2": "2"}, map[string]string{"k": "v", "k2": "2"}},
		{map[string]string{"k": ""}, map[string]string{"k2": "2"}},
	} {
		if got, err := a.SetLabels(ctx, tc.set); err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SetLabels(%v) = %v, %v; want %v", tc.set, got, err, tc.want)
		}
	}
	if _, err := a.SetLabels(ctx, map[string]string{"k": big}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("SetLabels over 4096 bytes: %v, want InvalidArgument", err)
	}
	ext := &anypb.Any{TypeUrl: "example.com/ext", Value: []byte("1")}
	if _, err := c.ContainerService().Update(ctx, containers.Container{ID: a.ID(), Extensions: map[string]typeurl.Any{"ext": ext}}, "extensions.ext"); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Extensions(ctx); err != nil || got["ext"].GetTypeUrl() != ext.TypeUrl {
		t.Errorf("extensions after an update of extensions.ext: %v, %v", got, err)
	}

	// Namespaces: SetLabel adds one label, an empty value removes it, a missing namespace has none.
	nss, ns := c.NamespaceService(), apiID("ns")
	if err := nss.Create(ctx, ns, map[string]string{"a": "1"}); err != nil {
		t.Fatal(err)
	}
	defer nss.Delete(ctx, ns)
	for _, tc := range []struct {
		k, v string
		want map[string]string
	}{{"b", "2", map[string]string{"a": "1", "b": "2"}}, {"a", "", map[string]string{"b": "2"}}} {
		if err := nss.SetLabel(ctx, ns, tc.k, tc.v); err != nil {
			t.Fatal(err)
		}
		if got, err := nss.Labels(ctx, ns); err != nil || !maps.Equal(got, tc.want) {
			t.Errorf("after SetLabel(%s=%s): %v, %v; want %v", tc.k, tc.v, got, err, tc.want)
		}
	}
	if got, err := nss.Labels(ctx, apiID("missing")); err != nil || len(got) != 0 {
		t.Errorf("labels of a missing namespace: %v, %v; want none", got, err)
	}
	if err := nss.SetLabel(ctx, ns, "big", big); !errdefs.IsInvalidArgument(err) {
		t.Errorf("namespace label over 4096 bytes: %v, want InvalidArgument", err)
	}

	// Leases: a label filter and the size limit.
	lm := c.LeasesService()
	l, err := lm.Create(ctx, leases.WithID(apiID("lease")), leases.WithLabels(map[string]string{"api": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	defer lm.Delete(ctx, l)
	if ls, err := lm.List(ctx, "labels.api==x"); err != nil || len(ls) != 1 || ls[0].ID != l.ID {
		t.Errorf("leases with labels.api==x: %v, %v; want only %s", ls, err, l.ID)
	}
	if _, err := lm.Create(ctx, leases.WithLabels(map[string]string{"api": big})); !errdefs.IsInvalidArgument(err) {
		t.Errorf("lease label over 4096 bytes: %v, want InvalidArgument", err)
	}

	// Events: a filter on a field of the event.
	evs, errs := c.EventService().Subscribe(ctx, `event.id==`+apiID("ev"))
	time.Sleep(100 * time.Millisecond) // let the subscription register before publishing
	newContainer(t, c, ctx, apiID("other"), "runc", nil, "true")
	newContainer(t, c, ctx, apiID("ev"), "runc", nil, "true")
	select {
	case env := <-evs:
		v, err := typeurl.UnmarshalAny(env.Event)
		if e, ok := v.(*apievents.ContainerCreate); err != nil || !ok || e.ID != apiID("ev") || env.Topic != "/containers/create" {
			t.Errorf("first event %s %#v, %v; want the creation of %s", env.Topic, v, err, apiID("ev"))
		}
	case err := <-errs:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("no event for event.id filter")
	}
}
