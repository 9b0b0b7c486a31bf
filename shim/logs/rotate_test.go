package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/corral-dev/corral/api/keeper"
)

func TestWriterRotation(t *testing.T) {
	for _, tc := range []struct {
		name            string
		maxSize         keeper.Size
		maxFile, nLines int
		wantFiles       int
		wantKeptAtLeast int // records left in the kept files
	}{
		{name: "no rotation", maxSize: 1 << 20, maxFile: 3, nLines: 50, wantFiles: 1, wantKeptAtLeast: 50},
		{name: "three files", maxSize: 1000, maxFile: 3, nLines: 200, wantFiles: 3, wantKeptAtLeast: 20},
		{name: "five files", maxSize: 500, maxFile: 5, nLines: 200, wantFiles: 5, wantKeptAtLeast: 15},
		{name: "truncate", maxSize: 1000, maxFile: 1, nLines: 200, wantFiles: 1, wantKeptAtLeast: 5},
		{name: "record larger than the limit", maxSize: 10, maxFile: 2, nLines: 5, wantFiles: 2, wantKeptAtLeast: 2},
	} {
		for _, format := range formats {
			t.Run(tc.name+" "+format, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "c.log")
				w, err := NewWriter(path, logConfig(format, tc.maxSize, tc.maxFile))
				if err != nil {
					t.Fatal(err)
				}
				s := w.Stream(Stderr)
				for i := range tc.nLines {
					fmt.Fprintf(s, "line %04d\n", i)
				}
				s.Close()
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				entries, _ := os.ReadDir(dir)
				if len(entries) != tc.wantFiles {
					t.Fatalf("%d files, want %d", len(entries), tc.wantFiles)
				}
				for i := range tc.wantFiles {
					st, err := os.Stat(rotated(path, i))
					if err != nil {
						t.Fatal(err)
					}
					if tc.maxSize > 100 && st.Size() > int64(tc.maxSize) {
						t.Errorf("%s has %d bytes, over %d", st.Name(), st.Size(), tc.maxSize)
					}
				}
				rs := readAll(t, path, ReadOptions{Tail: -1})
				if len(rs) < tc.wantKeptAtLeast {
					t.Fatalf("%d records kept, want at least %d", len(rs), tc.wantKeptAtLeast)
				}
				first := tc.nLines - len(rs) // the kept records are the newest, in order
				for i, r := range rs {
					if want := fmt.Sprintf("line %04d\n", first+i); r.Line != want || r.Stream != Stderr {
						t.Fatalf("record %d is %q, want %q", i, r.Line, want)
					}
				}
			})
		}
	}
}

func TestWriterConcurrentStreams(t *testing.T) {
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			w, err := NewWriter(path, logConfig(format, 64<<10, 4))
			if err != nil {
				t.Fatal(err)
			}
			const n = 2000
			var wg sync.WaitGroup
			for _, st := range []Stream{Stdout, Stderr} {
				wg.Go(func() {
					s := w.Stream(st)
					defer s.Close()
					var b strings.Builder
					for i := range n {
						fmt.Fprintf(&b, "%s %d %s\n", st, i, strings.Repeat("-", i%50))
						if i%7 == 0 { // vary how lines fall across writes
							s.Write([]byte(b.String()))
							b.Reset()
						}
					}
					s.Write([]byte(b.String()))
				})
			}
			wg.Wait()
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			// Rotation dropped the oldest records: each stream's kept ones must run on to its last line.
			next := map[Stream]int{}
			rs := readAll(t, path, ReadOptions{Tail: -1})
			for _, r := range rs {
				i, ok := next[r.Stream]
				if !ok {
					fmt.Sscanf(r.Line, string(r.Stream)+" %d", &i)
				}
				if want := fmt.Sprintf("%s %d %s\n", r.Stream, i, strings.Repeat("-", i%50)); r.Line != want {
					t.Fatalf("%s record %d is %q, want %q", r.Stream, i, r.Line, want)
				}
				next[r.Stream] = i + 1
			}
			if next[Stdout] != n || next[Stderr] != n || len(rs) < 500 {
				t.Fatalf("read %d records ending at %v, want both streams up to %d", len(rs), next, n)
			}
		})
	}
}

func BenchmarkWriter(b *testing.B) {
	line := []byte(strings.Repeat("benchmark log line ", 5) + "\n")
	for _, format := range formats {
		b.Run(format, func(b *testing.B) {
			w, err := NewWriter(filepath.Join(b.TempDir(), "log"), logConfig(format, 10<<20, 2))
			if err != nil {
				b.Fatal(err)
			}
			s := w.Stream(Stdout)
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				s.Write(line)
			}
			s.Close()
			w.Close()
		})
	}
}
