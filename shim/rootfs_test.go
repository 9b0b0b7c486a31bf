package shim

import "testing"

func TestAbsRoot(t *testing.T) {
	for root, want := range map[string]string{
		"rootfs":      "/b/rootfs",
		"/srv/rootfs": "/srv/rootfs",
		"":            "",
	} {
		if got := absRoot("/b", root); got != want {
			t.Errorf("absRoot(/b, %q) = %q, want %q", root, got, want)
		}
	}
}
