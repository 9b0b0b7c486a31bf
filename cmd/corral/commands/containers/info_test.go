package containers

import (
	"bytes"
	"strings"
	"testing"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api"
)

func TestPrintDetail(t *testing.T) {
	spec := `{"ociVersion":"1.2.0","process":{"args":["sh","-c","exit 3"],"cwd":"/"},"root":{"path":"/rootfs"}}`
	for _, tc := range []struct {
		name string
		c    *containersapi.Container
		want []string // lines, fields separated by single spaces
	}{
		{
			name: "oci spec",
			c: &containersapi.Container{ID: "c1", Runtime: &containersapi.Container_Runtime{Name: "runc"},
				Labels: map[string]string{"b": "2", "a": "1"}, Spec: &anypb.Any{TypeUrl: api.SpecTypeURL, Value: []byte(spec)}},
			want: []string{"ID c1", "RUNTIME runc", "COMMAND sh -c exit 3", "ROOT /rootfs", "LABELS a=1,b=2"},
		},
		{
			name: "no spec",
			c:    &containersapi.Container{ID: "c2"},
			want: []string{"ID c2", "RUNTIME", "COMMAND", "ROOT", "LABELS"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printDetail(&out, tc.c); err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(out.String(), "{}\"") {
				t.Errorf("table looks like JSON:\n%s", &out)
			}
			lines := map[string]bool{}
			for _, l := range strings.Split(out.String(), "\n") {
				lines[strings.Join(strings.Fields(l), " ")] = true
			}
			for _, w := range tc.want {
				if !lines[w] {
					t.Errorf("no line %q in:\n%s", w, &out)
				}
			}
		})
	}
}
