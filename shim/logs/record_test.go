package logs

import (
	"errors"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/api/keeper"
)

func TestEncode(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	for _, tc := range []struct {
		format, line string
		full         bool
		want         string
	}{
		{keeper.LogFormatJSONFile, "hello", true, `{"log":"hello\n","stream":"stdout","time":"2024-05-06T07:08:09.123456789Z"}` + "\n"},
		{keeper.LogFormatJSONFile, "part", false, `{"log":"part","stream":"stdout","time":"2024-05-06T07:08:09.123456789Z"}` + "\n"},
		{keeper.LogFormatJSONFile, "<a & \"b\">\t\x1b", true, `{"log":"<a & \"b\">\t\u001b\n","stream":"stdout","time":"2024-05-06T07:08:09.123456789Z"}` + "\n"},
		{keeper.LogFormatCRI, "hello", true, "2024-05-06T07:08:09.123456789Z stdout F hello\n"},
		{keeper.LogFormatCRI, "part", false, "2024-05-06T07:08:09.123456789Z stdout P part\n"},
		{keeper.LogFormatCRI, "", true, "2024-05-06T07:08:09.123456789Z stdout F \n"},
	} {
		got := string(newEncoder(tc.format).encode(at, Stdout, []byte(tc.line), tc.full))
		if got != tc.want {
			t.Errorf("%s %q full=%v:\n got %q\nwant %q", tc.format, tc.line, tc.full, got, tc.want)
		}
	}
}

func TestDecode(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 120000000, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     Record // zero means a decode error
	}{
		{"json", `{"log":"hi\n","stream":"stderr","time":"2024-05-06T07:08:09.12Z"}`, Record{at, Stderr, "hi\n"}},
		{"json partial", `{"log":"hi","stream":"stdout","time":"2024-05-06T07:08:09.12Z"}` + "\n", Record{at, Stdout, "hi"}},
		{"cri", "2024-05-06T07:08:09.12Z stdout F a b  c\n", Record{at, Stdout, "a b  c\n"}},
		{"cri partial", "2024-05-06T07:08:09.12Z stderr P x", Record{at, Stderr, "x"}},
		{"cri empty", "2024-05-06T07:08:09.12Z stderr F ", Record{at, Stderr, "\n"}},
		{"cri zone", "2024-05-06T09:08:09.12+02:00 stdout F z", Record{at, Stdout, "z\n"}},
		{"cri bad tag", "2024-05-06T07:08:09.12Z stdout X x", Record{}},
		{"cri bad time", "yesterday stdout F x", Record{}},
		{"cri short", "2024-05-06T07:08:09.12Z stdout", Record{}},
		{"bad stream", "2024-05-06T07:08:09.12Z stdin F x", Record{}},
		{"torn json", `{"log":"hi\n","str`, Record{}},
		{"empty", "", Record{}},
	} {
		got, err := decode([]byte(tc.in))
		if tc.want == (Record{}) {
			if !errors.Is(err, errdefs.ErrDataLoss) {
				t.Errorf("%s: decode = %+v, %v; want DataLoss", tc.name, got, err)
			}
			continue
		}
		if err != nil || !got.Time.Equal(tc.want.Time) || got.Stream != tc.want.Stream || got.Line != tc.want.Line {
			t.Errorf("%s: decode = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	at := time.Now().UTC()
	for _, format := range []string{keeper.LogFormatJSONFile, keeper.LogFormatCRI} {
		for _, line := range []string{"", "plain", "  spaced  ", "quote\" back\\slash", "ünïcödé ✓", "ctl\x00\x07\r"} {
			for _, full := range []bool{true, false} {
				b := newEncoder(format).encode(at, Stderr, []byte(line), full)
				got, err := decode(b)
				want := line
				if full {
					want += "\n"
				}
				if err != nil || !got.Time.Equal(at) || got.Stream != Stderr || got.Line != want {
					t.Errorf("%s %q full=%v: %+v, %v", format, line, full, got, err)
				}
			}
		}
	}
}
