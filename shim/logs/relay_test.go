package logs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestRelayNeverBlocks: with no client reading, a relay drops what the FIFO cannot take; a client
// that opens the FIFO later reads what follows.
func TestRelayNeverBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stdout")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRelay(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	big := make([]byte, 1<<20) // far more than a pipe holds
	if n, err := r.Write(big); err != nil || n != len(big) {
		t.Fatalf("Write = %d, %v; want the whole buffer accepted", n, err)
	}
	client, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	buf := make([]byte, 2<<20)
	stale, _ := client.Read(buf) // what the pipe held when the client came
	if stale == 0 || stale >= len(big) {
		t.Fatalf("client read %d stale bytes, want some but not all", stale)
	}
	if _, err := r.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	if n, err := client.Read(buf); err != nil || string(buf[:n]) != "hello\n" {
		t.Fatalf("client read %q, %v; want the new line", buf[:n], err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Write([]byte("x")); err == nil {
		t.Error("write after close succeeded")
	}
}
