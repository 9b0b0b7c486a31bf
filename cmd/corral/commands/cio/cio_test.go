package cio

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestFIFOs plays the runtime's side of the FIFOs.
func TestFIFOs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	f, err := Open(context.Background(), &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	inPath, outPath, errPath := f.Paths()
	for path, text := range map[string]string{outPath: "out\n", errPath: "err\n"} {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		w.WriteString(text)
		w.Close()
	}
	closed := make(chan struct{})
	f.CopyStdin(strings.NewReader("in\n"), func() { close(closed) })
	in, err := os.ReadFile(inPath) // returns at EOF, once corral closed its end
	if err != nil || string(in) != "in\n" {
		t.Errorf("stdin = %q, %v", in, err)
	}
	<-closed

	if !f.Drain(5 * time.Second) {
		t.Fatal("output not drained")
	}
	if stdout.String() != "out\n" || stderr.String() != "err\n" {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	f.Close()
	if _, err := os.Stat(f.dir); !os.IsNotExist(err) {
		t.Errorf("fifo dir left behind: %v", err)
	}
}

// TestDrainTimeout checks that an output FIFO the runtime never closes does not hang corral.
func TestDrainTimeout(t *testing.T) {
	f, err := Open(context.Background(), &bytes.Buffer{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	if f.Drain(50 * time.Millisecond) {
		t.Error("drained output nobody closed")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("drain took %v", d)
	}
}
