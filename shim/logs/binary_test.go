package logs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain makes the test binary a binary:// logger when re-executed by TestServeBinaryProcess.
func TestMain(m *testing.M) {
	if os.Getenv("LOGS_TEST_LOGGER") == "1" {
		if err := ServeBinary(context.Background(), os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// pipes are the logger's three pipes: its ends (the files it gets) and the shim's.
type pipes struct{ stdout, stderr, ready, outW, errW, readyR *os.File }

func newPipes(t *testing.T) *pipes {
	var p pipes
	for _, ends := range [][2]**os.File{{&p.stdout, &p.outW}, {&p.stderr, &p.errW}, {&p.readyR, &p.ready}} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		*ends[0], *ends[1] = r, w
	}
	return &p
}

func TestServeBinary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	p := newPipes(t)
	errc := make(chan error, 1)
	go func() {
		errc <- serveBinary(context.Background(), "ns/c1", []string{"path", path}, p.stdout, p.stderr, p.ready)
	}()
	if _, err := io.ReadAll(p.readyR); err != nil { // EOF: the logger is ready
		t.Fatal(err)
	}
	p.outW.WriteString("out 1\nout ")
	p.errW.WriteString("err 1\n")
	p.outW.WriteString("2\nno newline")
	p.outW.Close()
	p.errW.Close()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	got := map[Stream][]string{}
	for _, r := range readAll(t, path, ReadOptions{Tail: -1}) {
		got[r.Stream] = append(got[r.Stream], r.Line)
	}
	want := map[Stream][]string{Stdout: {"out 1\n", "out 2\n", "no newline"}, Stderr: {"err 1\n"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("log holds %q, want %q", got, want)
	}
}

// TestServeBinaryProcess runs ServeBinary as a shim runs a binary:// logger: fds 3, 4 and 5,
// the container's names in the environment, SIGTERM to stop.
func TestServeBinaryProcess(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		closeFirst bool // the shim closes the pipes before SIGTERM
		wantErr    string
	}{
		{name: "stopped after the pipes close", args: []string{"format", "cri"}, closeFirst: true},
		{name: "stopped with the pipes open", args: []string{"max-size", "1k"}},
		{name: "bad arguments", args: []string{"max-file", "0"}, wantErr: "failed to start logger of ns/c1: log max_file must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			p := newPipes(t)
			var stderr bytes.Buffer
			cmd := exec.Command(os.Args[0], append([]string{"path", path}, tc.args...)...)
			cmd.Env = append(os.Environ(), "LOGS_TEST_LOGGER=1", "CONTAINER_ID=c1", "CONTAINER_NAMESPACE=ns")
			cmd.ExtraFiles = []*os.File{p.stdout, p.stderr, p.ready}
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			p.stdout.Close()
			p.stderr.Close()
			p.ready.Close()
			io.ReadAll(p.readyR)
			if tc.wantErr != "" {
				if err := cmd.Wait(); err == nil || !strings.Contains(stderr.String(), tc.wantErr) {
					t.Fatalf("logger exited with %v, stderr %q; want %q", err, stderr.String(), tc.wantErr)
				}
				return
			}
			p.outW.WriteString("hello\n")
			p.errW.WriteString("oops\n")
			if tc.closeFirst {
				p.outW.Close()
				p.errW.Close()
			} else {
				defer p.outW.Close()
				defer p.errW.Close()
				for deadline := time.Now().Add(5 * time.Second); len(readAll(t, path, ReadOptions{Tail: -1})) < 2; {
					if time.Now().After(deadline) {
						t.Fatal("the logger wrote nothing")
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("logger: %v, stderr %q", err, stderr.String())
			}
			got := lines(readAll(t, path, ReadOptions{Tail: -1}))
			if len(got) != 2 || !(got[0] == "stdout:hello\n" || got[1] == "stdout:hello\n") {
				t.Errorf("log holds %q", got)
			}
		})
	}
}
