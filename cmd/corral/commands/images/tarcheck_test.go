package images

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// tarball returns a tar of the files, name and content in turn.
func tarball(files ...string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i+1 < len(files); i += 2 {
		_ = tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(files[i+1]))
	}
	_ = tw.Close()
	return b.Bytes()
}

func TestTarCheck(t *testing.T) {
	blob := func(content string) string { return "blobs/sha256/" + digest.FromString(content).Encoded() }
	long := strings.Repeat("a", 1000)
	good := tarball("oci-layout", `{"imageLayoutVersion":"1.0.0"}`, blob("a"), "a", "index.json", "{}")
	for _, tc := range []struct {
		name              string
		tar               []byte
		entries           int
		bad               string
		layout, truncated bool
	}{
		{"oci layout", good, 3, "", true, false},
		{"docker archive", tarball("manifest.json", "[]", "abc/layer.tar", "x"), 2, "", true, false},
		{"blob mismatch", tarball("oci-layout", "{}", blob("a"), "b"), 2, blob("a") + " holds content of digest " + digest.FromString("b").String(), true, false},
		{"blob name no digest", tarball("oci-layout", "{}", "blobs/sha256/xyz", "b", "./blobs/x", "y"), 3, "", true, false},
		{"no layout", tarball("hello.txt", "hi"), 1, "", false, false},
		{"no end marker", good[:len(good)-1024], 3, "", true, true},
		{"cut after a blob", good[:512*3+1], 2, "", true, true},
		{"cut in a blob", tarball("oci-layout", "{}", blob(long), long)[:512*3+100], 2, "", true, false}, // the importer says so
		{"empty", nil, 0, "", false, true},
		{"text", []byte("hello\n"), 0, "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, c := checkTar(bytes.NewReader(tc.tar))
			_, _ = io.CopyN(io.Discard, r, 100) // the importer may stop early: finish reads the rest
			c.finish(r)
			if c.entries != tc.entries || c.bad != tc.bad || c.layout != tc.layout || c.truncated != tc.truncated {
				t.Errorf("got %d entries, bad %q, layout %v, truncated %v; want %d, %q, %v, %v",
					c.entries, c.bad, c.layout, c.truncated, tc.entries, tc.bad, tc.layout, tc.truncated)
			}
		})
	}
}

func TestTarCheckErr(t *testing.T) {
	notFound := fmt.Errorf("content digest sha256:x: %w", errdefs.ErrNotFound)
	for _, tc := range []struct {
		name  string
		check tarCheck
		err   error
		want  string // "" for no error
		class error
	}{
		{"fine", tarCheck{entries: 3, layout: true}, nil, "", nil},
		{"mismatch after a good import", tarCheck{entries: 3, layout: true, bad: "blobs/sha256/a holds b"}, nil, "a blob does not match its digest: blobs/sha256/a holds b", errdefs.ErrInvalidArgument},
		{"mismatch first", tarCheck{entries: 1, bad: "x", truncated: true}, notFound, "a blob does not match its digest", errdefs.ErrInvalidArgument},
		{"short read", tarCheck{entries: 3, layout: true}, fmt.Errorf("short read: %w", io.ErrUnexpectedEOF), "the tarball is truncated: short read", errdefs.ErrInvalidArgument},
		{"no end marker", tarCheck{entries: 3, layout: true, truncated: true}, notFound, "the tarball is truncated", errdefs.ErrInvalidArgument},
		{"not tar", tarCheck{}, tar.ErrHeader, "not a tar archive, or a corrupt one", errdefs.ErrInvalidArgument},
		{"shorter than a header", tarCheck{truncated: true}, io.ErrUnexpectedEOF, "not a tar archive, or a corrupt one", errdefs.ErrInvalidArgument},
		{"corrupt header after the first", tarCheck{entries: 2, layout: true}, tar.ErrHeader, "not a tar archive, or a corrupt one", errdefs.ErrInvalidArgument},
		{"not image", tarCheck{entries: 1}, errors.New("unrecognized image format"), "not an image tarball", errdefs.ErrInvalidArgument},
		{"missing blob", tarCheck{entries: 3, layout: true}, notFound, "the tarball lacks a blob its images refer to: content digest sha256:x", errdefs.ErrNotFound},
		{"other", tarCheck{entries: 3, layout: true}, errdefs.ErrUnavailable, "unavailable", errdefs.ErrUnavailable},
	} {
		err := tc.check.err(tc.err)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: got %v, want no error", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.class) {
			t.Errorf("%s: got %v, want %q (%v)", tc.name, err, tc.want, tc.class)
		}
	}
}
