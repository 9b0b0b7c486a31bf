package images

import (
	"errors"
	"testing"

	"github.com/containerd/errdefs"
)

func TestExportOpts(t *testing.T) {
	for _, tc := range []struct {
		platforms []string
		all       bool
		ok        bool
	}{
		{nil, false, true},
		{nil, true, true},
		{[]string{"linux/amd64", "linux/arm64/v8"}, false, true},
		{[]string{"linux/amd64"}, true, false},
		{[]string{"linux/amd64/x/y"}, false, false},
	} {
		opts, err := exportOpts(tc.platforms, tc.all)
		if tc.ok != (err == nil) || (err == nil && len(opts) != 1) || (err != nil && !errors.Is(err, errdefs.ErrInvalidArgument)) {
			t.Errorf("%v, all %v: got %d options, %v", tc.platforms, tc.all, len(opts), err)
		}
	}
}
