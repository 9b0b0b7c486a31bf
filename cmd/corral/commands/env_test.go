package commands

import (
	"reflect"
	"strings"
	"testing"
)

func TestMergeEnv(t *testing.T) {
	for _, tc := range []struct {
		name      string
		base, set []string
		want      []string
		wantErr   string
	}{
		{name: "empty", want: []string{}},
		{name: "base only", base: []string{"A=1", "B=2"}, want: []string{"A=1", "B=2"}},
		{name: "append", base: []string{"A=1"}, set: []string{"B=", "C=3"}, want: []string{"A=1", "B=", "C=3"}},
		{name: "replace in place", base: []string{"A=1", "B=2"}, set: []string{"A=3", "C=4", "A=5=6"}, want: []string{"A=5=6", "B=2", "C=4"}},
		{name: "duplicates in base", base: []string{"A=1", "A=2"}, want: []string{"A=2"}},
		{name: "base entry without =", base: []string{"odd"}, set: []string{"A=1"}, want: []string{"odd", "A=1"}},
		{name: "set without =", set: []string{"A"}, wantErr: `invalid --env "A"`},
		{name: "set without key", set: []string{"=1"}, wantErr: `invalid --env "=1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MergeEnv(tc.base, tc.set)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("MergeEnv(%q, %q) = %q, %v; want %q", tc.base, tc.set, got, err, tc.want)
			}
		})
	}
}
