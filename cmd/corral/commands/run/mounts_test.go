package run

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseMount(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("data", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		value   string
		want    specs.Mount
		wantErr string
	}{
		{value: "type=bind,src=" + dir + ",dst=/data", want: specs.Mount{Destination: "/data", Type: "bind", Source: dir, Options: []string{"rbind"}}},
		{value: "source=" + dir + ",target=/data,ro", want: specs.Mount{Destination: "/data", Type: "bind", Source: dir, Options: []string{"rbind", "ro"}}},
		{value: "src=./data,destination=/d,readonly=true", want: specs.Mount{Destination: "/d", Type: "bind", Source: filepath.Join(dir, "data"), Options: []string{"rbind", "ro"}}},
		{value: "src=.,dst=/d,ro=false", want: specs.Mount{Destination: "/d", Type: "bind", Source: dir, Options: []string{"rbind"}}},
		{value: "src=.,dst=/d,ro,rw", want: specs.Mount{Destination: "/d", Type: "bind", Source: dir, Options: []string{"rbind"}}},
		{value: "type=tmpfs,dst=/t", want: specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}}},
		{value: "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777,ro",
			want: specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "size=1048576", "mode=1777", "ro"}}},
		{value: "type=volume,src=v,dst=/d", wantErr: `type "volume": accepted are bind and tmpfs`},
		{value: "src=" + dir, wantErr: "dst=PATH is missing"},
		{value: "dst=/d", wantErr: "src=PATH is missing"},
		{value: "src=" + dir + ",dst=d", wantErr: `destination "d" must be an absolute path`},
		{value: "src=" + dir + ",dst=/", wantErr: "other than /"},
		{value: "src=vol,dst=/d", wantErr: "named volumes are not supported"},
		{value: "src=/nonexistent/x,dst=/d", wantErr: "source /nonexistent/x cannot be bind-mounted"},
		{value: "src=" + dir + ",dst=/d,ro=maybe", wantErr: `ro="maybe": want true or false`},
		{value: "src=" + dir + ",dst=/d,propagation=shared", wantErr: `unknown field "propagation=shared"; accepted are type=bind|tmpfs`},
		{value: "type=tmpfs,src=x,dst=/t", wantErr: "a tmpfs takes no src"},
		{value: "type=tmpfs,dst=/t,tmpfs-size=big", wantErr: `tmpfs-size="big": want a size such as 64m`},
		{value: "type=tmpfs,dst=/t,tmpfs-mode=999", wantErr: `tmpfs-mode="999": want an octal mode`},
		{value: "src=" + dir + ",dst=/t,tmpfs-size=1m", wantErr: "tmpfs-size and tmpfs-mode need type=tmpfs"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			got, err := parseMount(tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "invalid --mount") ||
					!errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("err = %v, want an InvalidArgument naming --mount and %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseVolume(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		value   string
		want    specs.Mount
		wantErr string
	}{
		{value: dir + ":/data", want: specs.Mount{Destination: "/data", Type: "bind", Source: dir, Options: []string{"rbind"}}},
		{value: dir + ":/data:rw", want: specs.Mount{Destination: "/data", Type: "bind", Source: dir, Options: []string{"rbind"}}},
		{value: dir + ":/data:ro", want: specs.Mount{Destination: "/data", Type: "bind", Source: dir, Options: []string{"rbind", "ro"}}},
		{value: dir, wantErr: "want SRC:DST, SRC:DST:ro or SRC:DST:rw"},
		{value: dir + ":/data:z", wantErr: "want SRC:DST, SRC:DST:ro or SRC:DST:rw"},
		{value: dir + ":/a:ro:x", wantErr: "want SRC:DST, SRC:DST:ro or SRC:DST:rw"},
		{value: "vol:/data", wantErr: "named volumes are not supported"},
		{value: dir + "/nope:/data", wantErr: "no such file or directory"},
		{value: dir + ":data", wantErr: "must be an absolute path"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			got, err := parseVolume(tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "invalid -v") ||
					!errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("err = %v, want an InvalidArgument naming -v and %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
