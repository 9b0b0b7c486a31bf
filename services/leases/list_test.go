package leases

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	leasesapi "github.com/containerd/containerd/api/services/leases/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"google.golang.org/grpc/metadata"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/services/store"
)

func TestListFiltersAndLabels(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &Service{Store: st}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(api.NamespaceKey, "default"))
	for id, labels := range map[string]map[string]string{
		"l1": {"k": "v", "empty": ""},
		"l2": {"k": "w"},
		"l3": nil,
	} {
		if _, err := s.Create(ctx, &leasesapi.CreateRequest{ID: id, Labels: labels}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		filters []string
		want    []string
	}{
		{nil, []string{"l1", "l2", "l3"}},
		{[]string{`labels.k==v`}, []string{"l1"}},
		{[]string{`labels."k"`}, []string{"l1", "l2"}},
		{[]string{`labels.empty`}, nil}, // empty labels are not stored
		{[]string{`id==l3`, `labels.k==w`}, []string{"l2", "l3"}},
		{[]string{`id~=^l,labels.k!=v`}, []string{"l2", "l3"}},
	} {
		ls, err := s.list(ctx, tc.filters)
		if err != nil {
			t.Fatalf("filters %q: %v", tc.filters, err)
		}
		var got []string
		for _, l := range ls {
			got = append(got, l.ID)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("filters %q listed %v, want %v", tc.filters, got, tc.want)
		}
	}
	if _, err := s.list(ctx, []string{`labels.k==`}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad filter: %v, want InvalidArgument", err)
	}
	_, err = s.Create(ctx, &leasesapi.CreateRequest{ID: "big", Labels: map[string]string{"k": strings.Repeat("x", 4096)}})
	if !errors.Is(errgrpc.ToNative(err), errdefs.ErrInvalidArgument) {
		t.Errorf("lease with a label over 4096 bytes: %v, want InvalidArgument", err)
	}
}
