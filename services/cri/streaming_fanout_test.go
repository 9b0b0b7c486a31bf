package cri

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the fan-out's writes and the test's reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("client gone") }

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestFanouts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stdout")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	// The keeper's end: it holds the FIFO open for reading and writing.
	w, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteString("before any attach\n"); err != nil {
		t.Fatal(err)
	}
	var fs fanouts
	var a, b lockedBuffer
	endedA, detachA, err := fs.attach(path, &a)
	if err != nil {
		t.Fatal(err)
	}
	endedB, detachB, err := fs.attach(path, &b)
	if err != nil {
		t.Fatal(err)
	}
	endedF, detachF, err := fs.attach(path, failingWriter{})
	if err != nil {
		t.Fatal(err)
	}
	defer detachF()
	if _, err := w.WriteString("one\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both clients to get one", func() bool { return a.String() == "one\n" && b.String() == "one\n" })
	select {
	case <-endedF:
	case <-time.After(10 * time.Second):
		t.Fatal("a client whose write failed was not detached")
	}

	detachA()
	select {
	case <-endedA:
	default:
		t.Error("ended not closed by detach")
	}
	if _, err := w.WriteString("two\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the attached client to get two", func() bool { return b.String() == "one\ntwo\n" })
	if got := a.String(); got != "one\n" {
		t.Errorf("detached client got %q", got)
	}
	detachB()
	select {
	case <-endedB:
	default:
		t.Error("ended not closed by detach")
	}
	fs.mu.Lock()
	n := len(fs.m)
	fs.mu.Unlock()
	if n != 0 {
		t.Errorf("%d FIFOs still read after the last client left", n)
	}

	// A new client sees the output from its attach on; the end of the FIFO ends it.
	if _, err := w.WriteString("while no one was attached\n"); err != nil {
		t.Fatal(err)
	}
	var c lockedBuffer
	endedC, detachC, err := fs.attach(path, &c)
	if err != nil {
		t.Fatal(err)
	}
	defer detachC()
	if _, err := w.WriteString("three\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new client to get three", func() bool { return strings.Contains(c.String(), "three") })
	w.Close()
	select {
	case <-endedC:
	case <-time.After(10 * time.Second):
		t.Fatal("the end of the FIFO did not end the client")
	}
	if got := c.String(); got != "three\n" {
		t.Errorf("new client got %q, want only what came after its attach", got)
	}
}
