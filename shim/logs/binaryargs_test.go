package logs

import (
	"errors"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/api/keeper"
)

func TestParseBinaryArgs(t *testing.T) {
	for _, tc := range []struct {
		args    string
		want    keeper.Log
		wantErr string
	}{
		{args: "path /l", want: keeper.DefaultLog()},
		{args: "max-file 1 path /l format cri max-size 100k", want: keeper.Log{MaxSize: 100 << 10, MaxFile: 1, Format: "cri"}},
		{args: "", wantErr: "path must be absolute"},
		{args: "path l", wantErr: "path must be absolute"},
		{args: "path", wantErr: "not key value pairs"},
		{args: "path /l colour red", wantErr: "unknown argument \"colour\""},
		{args: "path /l max-file x", wantErr: "max-file \"x\" is not a number"},
		{args: "path /l max-file 0", wantErr: "max_file must be at least 1"},
		{args: "path /l max-size lots", wantErr: "invalid size \"lots\""},
		{args: "path /l format gelf", wantErr: "log format \"gelf\""},
	} {
		path, got, _, err := parseBinaryArgs(strings.Fields(tc.args))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%q: got %v, want InvalidArgument containing %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || path != "/l" || got != tc.want {
			t.Errorf("%q: got %q %+v, %v; want %+v", tc.args, path, got, err, tc.want)
		}
	}
}
