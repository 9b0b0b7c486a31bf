package v2

import "testing"

func TestIsV2Name(t *testing.T) {
	for name, want := range map[string]bool{
		"io.containerd.runc.v2":   true,
		"io.containerd.kata.v2":   true,
		"io.containerd.runsc.v1":  true,
		"io.containerd.runc":      false,
		"io.containerd.runc.v2.x": false,
		"io.containerd..v2":       false,
		"io.containerd.runc.":     false,
		"io.other.runc.v2":        false,
		"org.containerd.runc.v2":  false,
		"runc":                    false,
		"":                        false,
	} {
		if got := IsV2Name(name); got != want {
			t.Errorf("IsV2Name(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestBinaryName(t *testing.T) {
	for name, want := range map[string]string{
		"io.containerd.runc.v2":  "containerd-shim-runc-v2",
		"io.containerd.kata.v2":  "containerd-shim-kata-v2",
		"io.containerd.runsc.v1": "containerd-shim-runsc-v1",
	} {
		if got := BinaryName(name); got != want {
			t.Errorf("BinaryName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestDetect(t *testing.T) {
	f := New(Opts{}).ShimV2()
	if !f.Detect("io.containerd.runc.v2") || f.Detect("runc") {
		t.Fatal("Detect must follow IsV2Name")
	}
}
