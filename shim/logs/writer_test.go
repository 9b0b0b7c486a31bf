package logs

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/corral-dev/corral/api/keeper"
)

var formats = []string{keeper.LogFormatJSONFile, keeper.LogFormatCRI}

func logConfig(format string, maxSize keeper.Size, maxFile int) keeper.Log {
	return keeper.Log{Format: format, MaxSize: maxSize, MaxFile: maxFile}
}

// readAll returns the records of the log at path.
func readAll(t *testing.T, path string, o ReadOptions) []Record {
	t.Helper()
	var rs []Record
	if err := Read(context.Background(), path, o, func(r Record) error { rs = append(rs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return rs
}

// lines returns "stream:line" of each record.
func lines(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.Stream) + ":" + r.Line
	}
	return out
}

func TestWriterLines(t *testing.T) {
	long := strings.Repeat("x", MaxLineSize)
	for _, tc := range []struct {
		name   string
		writes []string // each write goes to stdout
		want   []string
	}{
		{"one line", []string{"a\n"}, []string{"a\n"}},
		{"split across writes", []string{"ab", "c\nd", "e\n"}, []string{"abc\n", "de\n"}},
		{"many in one write", []string{"a\n\nb\n"}, []string{"a\n", "\n", "b\n"}},
		{"partial at close", []string{"a\nrest"}, []string{"a\n", "rest"}},
		{"exactly the limit", []string{long + "\n"}, []string{long + "\n"}},
		{"exactly the limit in pieces", []string{long, "\n"}, []string{long + "\n"}},
		{"over the limit", []string{long + "yz\n"}, []string{long, "yz\n"}},
		{"over the limit in pieces", []string{long[:10], long[10:] + "y", "z\n"}, []string{long, "yz\n"}},
		{"twice the limit unterminated", []string{long + long + "q"}, []string{long, long, "q"}},
		{"twice the limit exactly unterminated", []string{long + long}, []string{long, long}},
	} {
		for _, format := range formats {
			t.Run(tc.name+" "+format, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "log")
				w, err := NewWriter(path, logConfig(format, 1<<30, 1))
				if err != nil {
					t.Fatal(err)
				}
				s := w.Stream(Stdout)
				for _, p := range tc.writes {
					if n, err := s.Write([]byte(p)); n != len(p) || err != nil {
						t.Fatalf("Write = %d, %v", n, err)
					}
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range readAll(t, path, ReadOptions{Tail: -1}) {
					got = append(got, r.Line)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("lines %.60q, want %.60q", got, tc.want)
				}
			})
		}
	}
}

func TestWriterReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	w, err := NewWriter(path, logConfig(keeper.LogFormatCRI, 1<<20, 1))
	if err != nil {
		t.Fatal(err)
	}
	s := w.Stream(Stdout)
	s.Write([]byte("before\n"))
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("after\n"))
	s.Close()
	w.Close()
	if err := w.Reopen(); err == nil {
		t.Error("Reopen after Close succeeded")
	}
	for name, want := range map[string][]string{path + ".moved": {"stdout:before\n"}, path: {"stdout:after\n"}} {
		if got := lines(readAll(t, name, ReadOptions{Tail: -1})); !reflect.DeepEqual(got, want) {
			t.Errorf("%s holds %q, want %q", name, got, want)
		}
	}
}

func TestWriterAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	for _, line := range []string{"one\n", "two\n"} {
		w, err := NewWriter(path, keeper.DefaultLog())
		if err != nil {
			t.Fatal(err)
		}
		s := w.Stream(Stdout)
		s.Write([]byte(line))
		s.Close()
		w.Close()
	}
	if got := lines(readAll(t, path, ReadOptions{Tail: -1})); !reflect.DeepEqual(got, []string{"stdout:one\n", "stdout:two\n"}) {
		t.Errorf("log holds %q", got)
	}
	if _, err := NewWriter(path, logConfig("syslog", 1, 1)); err == nil {
		t.Error("NewWriter accepted format syslog")
	}
}
