package images

import (
	"strings"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name    string
		blobs   []blob
		fetched int64
		elapsed time.Duration
		want    string
	}{
		{
			name:    "resolving",
			elapsed: 100 * time.Millisecond,
			want:    "elapsed: 0.1s  total: 0.0 B  (0.0 B/s)\n",
		},
		{
			name: "each status",
			blobs: []blob{
				{name: "manifest sha256:0123456789ab", status: done, offset: 400, total: 400},
				{name: "config sha256:777777777777", status: exists, offset: 229, total: 229},
				{name: "layer sha256:abcdef012345", status: downloading, offset: 40 << 20, total: 100 << 20},
				{name: "layer sha256:999999999999", status: waiting, total: 2 << 20},
			},
			fetched: 40<<20 + 400,
			elapsed: 4 * time.Second,
			want: "" +
				"manifest sha256:0123456789ab  done         [====================]  400.0 B\n" +
				"config sha256:777777777777    exists       [====================]  229.0 B\n" +
				"layer sha256:abcdef012345     downloading  [========            ]  40.0 MiB/100.0 MiB\n" +
				"layer sha256:999999999999     waiting      [                    ]\n" +
				"elapsed: 4.0s  total: 40.0 MiB  (10.0 MiB/s)\n",
		},
		{
			name:    "unknown size",
			blobs:   []blob{{name: "layer sha256:abcdef012345", status: downloading, offset: 1 << 20}},
			fetched: 1 << 20,
			elapsed: time.Second,
			want: "" +
				"layer sha256:abcdef012345  downloading  [                    ]  1.0 MiB\n" +
				"elapsed: 1.0s  total: 1.0 MiB  (1.0 MiB/s)\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			render(&b, tc.blobs, tc.fetched, tc.elapsed)
			if b.String() != tc.want {
				t.Fatalf("want\n%s\ngot\n%s", tc.want, b.String())
			}
		})
	}
}

func TestScreenDraw(t *testing.T) {
	var b strings.Builder
	s := &screen{out: &b, width: 10}
	s.draw("one\ntwo\n")
	s.draw("a line longer than ten\nb\nc\n")
	s.draw("x\n")
	want := "\r\x1b[Jone\ntwo\n" + // first frame: nothing to go back over
		"\x1b[2A\r\x1b[Ja line lo\nb\nc\n" + // up two lines, clear, lines cut short of the last column
		"\x1b[3A\r\x1b[Jx\n"
	if b.String() != want {
		t.Fatalf("want %q, got %q", want, b.String())
	}
}
