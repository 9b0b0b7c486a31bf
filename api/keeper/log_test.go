package keeper

import (
	"errors"
	"testing"

	"github.com/containerd/errdefs"
)

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Size
		text string // "" means the input is refused
	}{
		{"10m", 10 << 20, "10m"},
		{"100k", 100 << 10, "100k"},
		{"1g", 1 << 30, "1g"},
		{"1024", 1 << 10, "1k"},
		{"1000", 1000, "1000"},
		{"2MB", 2 << 20, "2m"},
		{"1.5k", 1536, "1536"},
		{"", 0, ""},
		{"-1", 0, ""},
		{"10x", 0, ""},
	} {
		got, err := ParseSize(tc.in)
		if tc.text == "" {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("ParseSize(%q) = %v, %v; want InvalidArgument", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want || got.String() != tc.text {
			t.Errorf("ParseSize(%q) = %v (%d), %v; want %s (%d)", tc.in, got, int64(got), err, tc.text, tc.want)
		}
	}
}
