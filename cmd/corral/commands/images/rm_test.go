package images

import (
	"errors"
	"testing"

	"github.com/containerd/errdefs"
)

func TestInUse(t *testing.T) {
	for _, tc := range []struct {
		ids  []string
		want string
	}{
		{nil, ""},
		{[]string{"a"}, "failed to remove image x:1: container a uses it; remove it first or use --force: failed precondition"},
		{[]string{"a", "b"}, "failed to remove image x:1: containers a, b use it; remove them first or use --force: failed precondition"},
	} {
		err := inUse("x:1", tc.ids)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: got %v, want nil", tc.ids, err)
			}
		} else if err == nil || err.Error() != tc.want || !errors.Is(err, errdefs.ErrFailedPrecondition) {
			t.Errorf("%v: got %v, want %q", tc.ids, err, tc.want)
		}
	}
}
