package commands

import (
	"bytes"
	"strings"
	"testing"
)

func TestPrintInfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		info Info
		want []string // lines, fields separated by single spaces
	}{
		{
			name: "tasks",
			info: Info{
				Runtimes: []Runtime{{Name: "lcr", Installed: true, Default: true}, {Name: "runc", Installed: true},
					{Name: "kata-runtime"}, {Name: "runsc", Installed: true, Error: "broken"}},
				Containers: 3,
				Tasks:      map[string]int{"RUNNING": 2, "STOPPED": 1},
			},
			want: []string{"Runtimes: lcr (default), runc", "Containers: 3", "Tasks: 3 (2 running, 1 stopped)", "Config: -"},
		},
		{name: "nothing", want: []string{"Runtimes:", "Containers: 0", "Tasks: 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printInfo(&out, &tc.info); err != nil {
				t.Fatal(err)
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
