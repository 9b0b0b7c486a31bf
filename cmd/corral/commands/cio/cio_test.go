package cio

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestNewPaths(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct {
		name                   string
		stdin, terminal        bool
		wantIn, wantOut, wantE bool
	}{
		{name: "all", stdin: true, wantIn: true, wantOut: true, wantE: true},
		{name: "no stdin", wantOut: true, wantE: true},
		{name: "terminal", stdin: true, terminal: true, wantIn: true, wantOut: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPaths(root, "ns", "c1", tc.stdin, tc.terminal)
			if err != nil {
				t.Fatal(err)
			}
			if (p.Stdin != "") != tc.wantIn || (p.Stdout != "") != tc.wantOut || (p.Stderr != "") != tc.wantE {
				t.Fatalf("paths %+v", p)
			}
			dir := filepath.Dir(p.Stdout)
			if filepath.Dir(dir) != filepath.Join(root, "ns") || !strings.HasPrefix(filepath.Base(dir), "c1-") {
				t.Errorf("fifo dir %s, want %s/ns/c1-*", dir, root)
			}
		})
	}
}

// write plays the runtime writing text to an output FIFO and closing it.
func write(t *testing.T, path, text string) {
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Error(err)
		return
	}
	w.WriteString(text)
	w.Close()
}

// TestOpen plays the runtime's side of a new process's FIFOs.
func TestOpen(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
	}{{name: "pipes"}, {name: "terminal", terminal: true}} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPaths(t.TempDir(), "ns", "c1", true, tc.terminal)
			if err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			f, err := Open(context.Background(), p, &stdout, &stderr)
			if err != nil {
				t.Fatal(err)
			}
			write(t, p.Stdout, "out\n")
			if p.Stderr != "" {
				write(t, p.Stderr, "err\n")
			}
			closed := make(chan struct{})
			f.CopyStdin(strings.NewReader("in\n"), func() { close(closed) })
			in, err := os.ReadFile(p.Stdin) // returns at EOF, once corral closed its end
			if err != nil || string(in) != "in\n" {
				t.Errorf("stdin = %q, %v", in, err)
			}
			<-closed
			<-f.Done()
			wantErr := "err\n"
			if tc.terminal {
				wantErr = ""
			}
			if stdout.String() != "out\n" || stderr.String() != wantErr {
				t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
			}
			f.Close()
			Remove(p)
			if _, err := os.Stat(filepath.Dir(p.Stdout)); !os.IsNotExist(err) {
				t.Errorf("fifo dir left behind: %v", err)
			}
		})
	}
}

// TestAttach attaches to FIFOs whose runtime ends are held open, as a running process's are, or
// closed, as an exited one's are.
func TestAttach(t *testing.T) {
	for _, tc := range []struct {
		name    string
		running bool
	}{{name: "running", running: true}, {name: "exited"}} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPaths(t.TempDir(), "ns", "c1", true, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{p.Stdin, p.Stdout, p.Stderr} {
				if err := syscall.Mkfifo(path, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var runtime []io.Closer // the runtime's ends: a reader on stdin, writers on stdout and stderr
			if tc.running {
				for _, path := range []string{p.Stdin, p.Stdout, p.Stderr} {
					f, err := os.OpenFile(path, os.O_RDWR, 0)
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					runtime = append(runtime, f)
				}
			}
			var stdout, stderr bytes.Buffer
			f, err := Attach(p, &stdout, &stderr)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if !tc.running {
				if f.stdin != nil {
					t.Error("opened a stdin no one reads")
				}
				select {
				case <-f.Done():
				case <-time.After(5 * time.Second):
					t.Fatal("output of an exited process not at EOF")
				}
				return
			}
			runtime[1].(*os.File).WriteString("out\n")
			runtime[2].(*os.File).WriteString("err\n")
			f.CopyStdin(strings.NewReader("in\n"), nil)
			buf := make([]byte, 3)
			if _, err := io.ReadFull(runtime[0].(*os.File), buf); err != nil || string(buf) != "in\n" {
				t.Errorf("stdin = %q, %v", buf, err)
			}
			select {
			case <-f.Done():
				t.Fatal("output at EOF while the runtime holds it open")
			case <-time.After(100 * time.Millisecond):
			}
			// The runtime ends are also readers; EOF comes once the writers are gone.
			runtime[1].Close()
			runtime[2].Close()
			<-f.Done()
			if stdout.String() != "out\n" || stderr.String() != "err\n" {
				t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
			}
		})
	}
}

func TestRemove(t *testing.T) {
	p, err := NewPaths(t.TempDir(), "ns", "c1", true, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p.Stdin, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Stdout, nil, 0o600); err != nil { // not a FIFO: kept, and so the dir
		t.Fatal(err)
	}
	Remove(p)
	if _, err := os.Stat(p.Stdin); !os.IsNotExist(err) {
		t.Errorf("stdin FIFO left: %v", err)
	}
	if _, err := os.Stat(p.Stdout); err != nil {
		t.Errorf("regular file removed: %v", err)
	}
	os.Remove(p.Stdout)
	Remove(p)
	if _, err := os.Stat(filepath.Dir(p.Stdout)); !os.IsNotExist(err) {
		t.Errorf("empty fifo dir left: %v", err)
	}
	Remove(Paths{}) // nothing to do
}

func TestQuiet(t *testing.T) {
	r, w := io.Pipe()
	f := &FIFOs{stdout: io.NopCloser(r)}
	f.copyOut(io.Discard, nil)
	quiet := f.Quiet(time.Second)
	for range 5 { // output keeps coming: not quiet
		time.Sleep(100 * time.Millisecond)
		w.Write([]byte("x"))
		select {
		case <-quiet:
			t.Fatal("quiet while output still came")
		default:
		}
	}
	select {
	case <-quiet:
	case <-time.After(5 * time.Second):
		t.Fatal("not quiet 5 s after the output stopped")
	}
	w.Close()
	<-f.Done()
}
