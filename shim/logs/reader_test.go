package logs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/api/keeper"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// writeFile writes records "n\n" for n in lines, at t0 + n seconds, alternating the streams.
func writeFile(t *testing.T, name, format string, lines ...int) {
	t.Helper()
	var b []byte
	e := newEncoder(format)
	for _, n := range lines {
		b = append(b, e.encode(t0.Add(time.Duration(n)*time.Second), []Stream{Stdout, Stderr}[n%2], []byte(fmt.Sprint(n)), true)...)
	}
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func numbers(rs []Record) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Line[:len(r.Line)-1])
	}
	return out
}

func TestReadTailSince(t *testing.T) {
	for _, format := range formats {
		path := filepath.Join(t.TempDir(), "log")
		writeFile(t, path+".2", format, 0, 1, 2)
		writeFile(t, path+".1", format, 3, 4)
		writeFile(t, path, format, 5, 6, 7)
		os.WriteFile(path+".4", []byte("after a gap: never read\n"), 0o600)
		for _, tc := range []struct {
			name string
			o    ReadOptions
			want []string
		}{
			{"all", ReadOptions{Tail: -1}, []string{"0", "1", "2", "3", "4", "5", "6", "7"}},
			{"tail 0", ReadOptions{}, []string{}},
			{"tail 1", ReadOptions{Tail: 1}, []string{"7"}},
			{"tail across files", ReadOptions{Tail: 4}, []string{"4", "5", "6", "7"}},
			{"tail more than held", ReadOptions{Tail: 100}, []string{"0", "1", "2", "3", "4", "5", "6", "7"}},
			{"since", ReadOptions{Tail: -1, Since: t0.Add(3 * time.Second)}, []string{"3", "4", "5", "6", "7"}},
			{"since and tail", ReadOptions{Tail: 2, Since: t0.Add(6500 * time.Millisecond)}, []string{"7"}},
			{"since after all", ReadOptions{Tail: -1, Since: t0.Add(time.Hour)}, []string{}},
		} {
			if got := numbers(readAll(t, path, tc.o)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s %s: %q, want %q", format, tc.name, got, tc.want)
			}
		}
	}
}

func TestReadSkipsForeignLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	writeFile(t, path, keeper.LogFormatCRI, 1)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("not a record\n{\"log\":\"torn\n")
	f.Close()
	writeFile(t, path+".1", keeper.LogFormatJSONFile, 0) // formats may mix
	if got := numbers(readAll(t, path, ReadOptions{Tail: -1})); !reflect.DeepEqual(got, []string{"0", "1"}) {
		t.Errorf("read %q", got)
	}
}

func TestReadMissing(t *testing.T) {
	err := Read(context.Background(), filepath.Join(t.TempDir(), "log"), ReadOptions{}, func(Record) error { return nil })
	if !errdefs.IsNotFound(err) {
		t.Errorf("got %v, want NotFound", err)
	}
}

func TestReadStopsOnCallbackError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	writeFile(t, path, keeper.LogFormatCRI, 1, 2, 3)
	stop := errors.New("stop")
	for _, tail := range []int{-1, 2} {
		n := 0
		err := Read(context.Background(), path, ReadOptions{Tail: tail}, func(Record) error { n++; return stop })
		if err != stop || n != 1 {
			t.Errorf("tail %d: %v after %d records", tail, err, n)
		}
	}
}
