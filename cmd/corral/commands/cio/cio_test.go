package run

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestStdio plays the runtime's side of the FIFOs.
func TestStdio(t *testing.T) {
	var stdout, stderr bytes.Buffer
	s, err := openStdio(context.Background(), &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	inPath, outPath, errPath := s.paths()
	for path, text := range map[string]string{outPath: "out\n", errPath: "err\n"} {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(text)
		f.Close()
	}
	closed := make(chan struct{})
	s.copyStdin(strings.NewReader("in\n"), func() { close(closed) })
	in, err := os.ReadFile(inPath) // returns at EOF, once corral closed its end
	if err != nil || string(in) != "in\n" {
		t.Errorf("stdin = %q, %v", in, err)
	}
	<-closed

	s.drain(5 * time.Second)
	select {
	case <-s.done:
	default:
		t.Fatal("output not drained")
	}
	if stdout.String() != "out\n" || stderr.String() != "err\n" {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	s.Close()
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("fifo dir left behind: %v", err)
	}
}

// TestStdioDrainTimeout checks that an output FIFO the runtime never closes does not hang corral.
func TestStdioDrainTimeout(t *testing.T) {
	s, err := openStdio(context.Background(), &bytes.Buffer{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	s.drain(50 * time.Millisecond)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("drain took %v", d)
	}
}
