package services

import (
	"context"

	"github.com/containerd/containerd/v2/pkg/filters"
	"google.golang.org/protobuf/proto"

	"github.com/corral-dev/corral/services/store"
)

// ListMatching returns the records of kind in the context's namespace that match any of the
// containerd filters fs, through adapt, which exposes a record's filter fields.
func ListMatching[T any, P interface {
	*T
	proto.Message
}](ctx context.Context, st *store.Store, kind string, fs []string, adapt func(P) filters.Adaptor) ([]P, error) {
	ns, err := Namespace(ctx)
	if err != nil {
		return nil, err
	}
	filter, err := filters.ParseAll(fs...)
	if err != nil {
		return nil, err
	}
	var out []P
	err = st.List(ns, kind, func(_ string, v []byte) error {
		r := P(new(T))
		if err := proto.Unmarshal(v, r); err != nil {
			return err
		}
		if filter.Match(adapt(r)) {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
