package logs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corral-dev/corral/config"
)

func TestFollow(t *testing.T) {
	pollInterval = time.Millisecond
	for _, format := range formats {
		for _, tc := range []struct {
			name    string
			maxFile int
			tail    int
		}{
			{"rotate", 3, 2},
			{"truncate", 1, 2},
			{"new records only", 2, 0},
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
				want := numbers(readAll(t, path, ReadOptions{Tail: tc.tail}))
				var done atomic.Bool
				got := make(chan []string)
				go func() {
					var rs []Record
					err := Read(context.Background(), path, ReadOptions{Tail: tc.tail, Follow: true, Done: done.Load}, func(r Record) error {
						rs = append(rs, r)
						return nil
					})
					if err != nil {
						t.Error(err)
					}
					got <- numbers(rs)
				}()
				time.Sleep(20 * time.Millisecond)
				// Enough lines to rotate many times, slowly enough for the reader to see every file.
				for i := 5; i < 60; i++ {
					fmt.Fprintf(s, "%d\n", i)
					time.Sleep(3 * time.Millisecond)
				}
				s.Close()
				w.Close()
				done.Store(true)
				for i := 5; i < 60; i++ {
					want = append(want, fmt.Sprint(i))
				}
				if g := <-got; !reflect.DeepEqual(g, want) {
					t.Errorf("followed %q,\nwant %q", g, want)
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
	writeFile(t, path, config.LogFormatCRI, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	n := 0
	err := Read(ctx, path, ReadOptions{Tail: -1, Follow: true}, func(Record) error { n++; return nil })
	if !errors.Is(err, context.DeadlineExceeded) || n != 1 {
		t.Errorf("got %v after %d records", err, n)
	}
}
