package images

import (
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestPlatformList(t *testing.T) {
	amd64 := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm := ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	for _, tc := range []struct {
		in   []ocispec.Platform
		want string
	}{
		{nil, "-"},
		{[]ocispec.Platform{amd64}, "linux/amd64"},
		{[]ocispec.Platform{arm, amd64, arm}, "linux/amd64,linux/arm/v7"},
	} {
		if got := platformList(tc.in); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.in, got, tc.want)
		}
	}
}
