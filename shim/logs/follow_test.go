package logs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corral-dev/corral/api/keeper"
)

func TestFollow(t *testing.T) {
	pollInterval = time.Millisecond
	for _, format := range formats {
		for _, tc := range []struct {
			name          string
			maxFile, tail int
			burst         int // lines written at once, rotating the log up to twice; the rest one by one
		}{
			{name: "rotate", maxFile: 3, tail: 2},
			{name: "rotate twice between polls", maxFile: 3, tail: 2, burst: 10},
			{name: "truncate", maxFile: 1, tail: 2},
			{name: "new records only", maxFile: 2},
		} {
			t.Run(format+" "+tc.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "log")
				w, err := NewWriter(path, logConfig(format, 300, tc.maxFile))
				if err != nil {
					t.Fatal(err)
				}
				s := w.Stream(Stdout)
				for i := range 5 {
					fmt.Fprintf(s, "%d\n", i)
				}
				var done atomic.Bool
				recs, errc := make(chan string), make(chan error, 1)
				go func() {
					errc <- Read(context.Background(), path, ReadOptions{Tail: tc.tail, Follow: true, Done: done.Load}, func(r Record) error {
						recs <- r.Line
						return nil
					})
				}()
				expect := func(want ...string) {
					t.Helper()
					for _, w := range want {
						select {
						case got := <-recs:
							if got != w {
								t.Fatalf("followed %q, want %q", got, w)
							}
						case <-time.After(5 * time.Second):
							t.Fatalf("%q not followed", w)
						}
					}
				}
				// The tail of what was written so far, then every line written: enough to rotate many
				// times, each written once the reader has seen the one before, so that no file is missed.
				for _, line := range numbers(readAll(t, path, ReadOptions{Tail: tc.tail})) {
					expect(line + "\n")
				}
				if tc.tail == 0 {
					time.Sleep(200 * time.Millisecond) // let Read get past what the log holds now
				}
				var burst []string
				for i := 5; i < 5+tc.burst; i++ {
					burst = append(burst, fmt.Sprintf("%d\n", i))
					fmt.Fprint(s, burst[len(burst)-1])
				}
				expect(burst...)
				for i := 5 + tc.burst; i < 60; i++ {
					fmt.Fprintf(s, "%d\n", i)
					expect(fmt.Sprintf("%d\n", i))
				}
				s.Close()
				w.Close()
				done.Store(true)
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(rotated(path, tc.maxFile)); err == nil {
					t.Errorf("more than %d files", tc.maxFile)
				}
			})
		}
	}
}

func TestFollowCancel(t *testing.T) {
	pollInterval = 5 * time.Millisecond
	path := filepath.Join(t.TempDir(), "log")
	writeFile(t, path, keeper.LogFormatCRI, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	n := 0
	err := Read(ctx, path, ReadOptions{Tail: -1, Follow: true}, func(Record) error { n++; return nil })
	if !errors.Is(err, context.DeadlineExceeded) || n != 1 {
		t.Errorf("got %v after %d records", err, n)
	}
}
