package containers

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/containerd/errdefs"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api"
	evexchange "github.com/corral-dev/corral/services/events"
	"github.com/corral-dev/corral/services/store"
)

var ctx = metadata.NewIncomingContext(context.Background(), metadata.Pairs(api.NamespaceKey, "default"))

// newService returns a service over a fresh store holding cs as stored.
func newService(t *testing.T, cs ...*containersapi.Container) *Service {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, c := range cs {
		c.Runtime = &containersapi.Container_Runtime{Name: "runc"}
		c.Spec = &anypb.Any{TypeUrl: api.SpecTypeURL, Value: []byte("{}")}
		b, _ := proto.Marshal(c)
		if err := st.Put("default", store.Containers, c.ID, b, true); err != nil {
			t.Fatal(err)
		}
	}
	return &Service{Store: st, Events: evexchange.NewExchange()}
}

func TestListFilters(t *testing.T) {
	s := newService(t,
		&containersapi.Container{ID: "a", Image: "busybox", Labels: map[string]string{"k": "v", "dotted.key": "x"}},
		&containersapi.Container{ID: "b", Labels: map[string]string{"k": "w"}},
		&containersapi.Container{ID: "c"},
	)
	for _, tc := range []struct {
		filters []string
		want    []string
	}{
		{nil, []string{"a", "b", "c"}},
		{[]string{`labels."k"==v`}, []string{"a"}},
		{[]string{`labels.k==v`}, []string{"a"}},
		{[]string{`labels.k`}, []string{"a", "b"}},
		{[]string{`labels.k!=v`}, []string{"b", "c"}},
		{[]string{`labels."dotted.key"==x`}, []string{"a"}},
		{[]string{`labels.dotted.key`}, []string{"a"}},
		{[]string{`id~=^[bc]$`}, []string{"b", "c"}},
		{[]string{`id==a`, `id==c`}, []string{"a", "c"}},
		{[]string{`labels.k,id==b`}, []string{"b"}},
		{[]string{`runtime.name==runc,image==busybox`}, []string{"a"}},
		{[]string{`runtime.name==lcr`}, nil},
	} {
		cs, err := s.list(ctx, tc.filters)
		if err != nil {
			t.Fatalf("filters %q: %v", tc.filters, err)
		}
		var got []string
		for _, c := range cs {
			got = append(got, c.ID)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("filters %q listed %v, want %v", tc.filters, got, tc.want)
		}
	}
	for _, f := range []string{`labels.k==`, `==v`, `id=="a`} {
		if _, err := s.list(ctx, []string{f}); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("filter %q: %v, want InvalidArgument", f, err)
		}
	}
}

func TestUpdateFieldPaths(t *testing.T) {
	ext := &anypb.Any{TypeUrl: "x", Value: []byte("1")}
	for _, tc := range []struct {
		paths      []string
		in         *containersapi.Container
		wantLabels map[string]string
		wantExt    []string
		wantErr    error
	}{
		{[]string{"labels.k2"}, &containersapi.Container{Labels: map[string]string{"k2": "2", "k": "ignored"}},
			map[string]string{"k": "v", "old": "1", "k2": "2"}, []string{"e1"}, nil},
		{[]string{"labels.k"}, &containersapi.Container{}, map[string]string{"old": "1"}, []string{"e1"}, nil},
		{[]string{"labels"}, &containersapi.Container{Labels: map[string]string{"n": "1", "gone": ""}},
			map[string]string{"n": "1"}, []string{"e1"}, nil},
		{[]string{"extensions.e2"}, &containersapi.Container{Extensions: map[string]*anypb.Any{"e2": ext}},
			map[string]string{"k": "v", "old": "1"}, []string{"e1", "e2"}, nil},
		{[]string{"extensions.e1"}, &containersapi.Container{}, map[string]string{"k": "v", "old": "1"}, nil, nil},
		{nil, &containersapi.Container{Labels: map[string]string{"a": "b"}}, map[string]string{"a": "b"}, nil, errdefs.ErrInvalidArgument}, // no spec
		{[]string{"runtime"}, &containersapi.Container{}, nil, nil, errdefs.ErrInvalidArgument},
		{[]string{"labels.big"}, &containersapi.Container{Labels: map[string]string{"big": strings.Repeat("x", 4094)}}, nil, nil, errdefs.ErrInvalidArgument},
		{[]string{"labels.fits"}, &containersapi.Container{Labels: map[string]string{"fits": strings.Repeat("x", 4092)}},
			map[string]string{"k": "v", "old": "1", "fits": strings.Repeat("x", 4092)}, []string{"e1"}, nil},
		{[]string{"extensions."}, &containersapi.Container{Extensions: map[string]*anypb.Any{"": ext}}, nil, nil, errdefs.ErrInvalidArgument},
	} {
		s := newService(t, &containersapi.Container{ID: "c", Labels: map[string]string{"k": "v", "old": "1"},
			Extensions: map[string]*anypb.Any{"e1": ext}})
		tc.in.ID = "c"
		c, err := s.update(ctx, tc.in, tc.paths)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("update %q: %v, want %v", tc.paths, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("update %q: %v", tc.paths, err)
		}
		stored, _ := s.load("default", "c")
		for _, got := range []*containersapi.Container{c, stored} {
			var exts []string
			for k := range got.Extensions {
				exts = append(exts, k)
			}
			slices.Sort(exts)
			if !reflect.DeepEqual(got.Labels, tc.wantLabels) || !reflect.DeepEqual(exts, tc.wantExt) {
				t.Errorf("update %q: labels %v extensions %v, want %v %v", tc.paths, got.Labels, exts, tc.wantLabels, tc.wantExt)
			}
		}
	}
}

func TestUpdateRuntimeImmutable(t *testing.T) {
	s := newService(t, &containersapi.Container{ID: "c"})
	in := &containersapi.Container{ID: "c", Runtime: &containersapi.Container_Runtime{Name: "lcr"},
		Spec: &anypb.Any{TypeUrl: api.SpecTypeURL, Value: []byte("{}")}}
	if _, err := s.update(ctx, in, nil); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("full update changing the runtime: %v, want InvalidArgument", err)
	}
	if _, err := s.update(ctx, &containersapi.Container{ID: "missing"}, []string{"labels"}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("update of a missing container: %v, want NotFound", err)
	}
}
