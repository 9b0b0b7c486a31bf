package namespaces

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	namespacesapi "github.com/containerd/containerd/api/services/namespaces/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"

	"github.com/corral-dev/corral/services/store"
)

func newService(t *testing.T) *Service {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateNamespace("ns", map[string]string{"a": "1"}); err != nil {
		t.Fatal(err)
	}
	return &Service{Store: st}
}

func TestUpdateLabels(t *testing.T) {
	for _, tc := range []struct {
		name    string
		paths   []string
		labels  map[string]string
		want    map[string]string
		wantErr error
	}{
		{"ns", []string{"labels.b"}, map[string]string{"b": "2", "c": "ignored"}, map[string]string{"a": "1", "b": "2"}, nil},
		{"ns", []string{"labels.a"}, map[string]string{"a": "changed"}, map[string]string{"a": "changed"}, nil},
		{"ns", []string{"labels.a"}, nil, map[string]string{}, nil},
		{"ns", []string{"labels.x.y"}, map[string]string{"x.y": "z"}, map[string]string{"a": "1", "x.y": "z"}, nil},
		{"ns", nil, map[string]string{"b": "2", "c": ""}, map[string]string{"b": "2"}, nil},
		{"fresh", []string{"labels.b"}, map[string]string{"b": "2"}, map[string]string{"b": "2"}, nil},
		{"ns", []string{"labels"}, map[string]string{"b": "2"}, map[string]string{"a": "1"}, errdefs.ErrInvalidArgument},
		{"ns", []string{"labels.big"}, map[string]string{"big": strings.Repeat("x", 4094)}, map[string]string{"a": "1"}, errdefs.ErrInvalidArgument},
		{"bad/name", []string{"labels.b"}, map[string]string{"b": "2"}, map[string]string{}, errdefs.ErrInvalidArgument},
	} {
		s := newService(t)
		_, err := s.update(&namespacesapi.Namespace{Name: tc.name, Labels: tc.labels}, tc.paths)
		if (tc.wantErr == nil && err != nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
			t.Errorf("update %s %q %v: %v, want %v", tc.name, tc.paths, tc.labels, err, tc.wantErr)
		}
		resp, err := s.Get(context.Background(), &namespacesapi.GetNamespaceRequest{Name: tc.name})
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Namespace.Labels; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("update %s %q %v: labels %v, want %v", tc.name, tc.paths, tc.labels, got, tc.want)
		}
	}
}

func TestListFilterAndCreateLimit(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, err := s.Create(ctx, &namespacesapi.CreateNamespaceRequest{Namespace: &namespacesapi.Namespace{Name: "other"}}); err != nil {
		t.Fatal(err)
	}
	for filter, want := range map[string][]string{
		"":             {"ns", "other"},
		"labels.a==1":  {"ns"},
		"name==other":  {"other"},
		"name~=^o,a":   nil,
		"labels.a!=1":  {"other"},
		"name==nobody": nil,
	} {
		resp, err := s.List(ctx, &namespacesapi.ListNamespacesRequest{Filter: filter})
		if err != nil {
			t.Fatalf("filter %q: %v", filter, err)
		}
		var got []string
		for _, ns := range resp.Namespaces {
			got = append(got, ns.Name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("filter %q listed %v, want %v", filter, got, want)
		}
	}
	_, err := s.Create(ctx, &namespacesapi.CreateNamespaceRequest{Namespace: &namespacesapi.Namespace{Name: "big",
		Labels: map[string]string{"k": strings.Repeat("x", 4096)}}})
	if !errors.Is(errgrpc.ToNative(err), errdefs.ErrInvalidArgument) {
		t.Errorf("namespace with a label over 4096 bytes: %v, want InvalidArgument", err)
	}
}
