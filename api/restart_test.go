package api

import (
	"errors"
	"testing"

	"github.com/containerd/errdefs"
)

func TestParseRestartPolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want RestartPolicy
		str  string
		bad  bool
	}{
		{in: "", want: RestartPolicy{Name: "no"}, str: "no"},
		{in: "no", want: RestartPolicy{Name: "no"}, str: "no"},
		{in: "always", want: RestartPolicy{Name: "always"}, str: "always"},
		{in: "unless-stopped", want: RestartPolicy{Name: "unless-stopped"}, str: "unless-stopped"},
		{in: "on-failure", want: RestartPolicy{Name: "on-failure"}, str: "on-failure"},
		{in: "on-failure:3", want: RestartPolicy{Name: "on-failure", MaxRetries: 3}, str: "on-failure:3"},
		{in: "on-failure:0", bad: true},
		{in: "on-failure:-1", bad: true},
		{in: "on-failure:x", bad: true},
		{in: "always:3", bad: true},
		{in: "Always", bad: true},
		{in: "sometimes", bad: true},
	} {
		got, err := ParseRestartPolicy(tc.in)
		if tc.bad {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%q: got %v, %v; want InvalidArgument", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want || got.String() != tc.str {
			t.Errorf("%q: got %+v (%q), %v; want %+v (%q)", tc.in, got, got.String(), err, tc.want, tc.str)
		}
	}
}
