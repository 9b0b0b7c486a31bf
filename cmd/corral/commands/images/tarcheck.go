package images

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// tarCheck reads a copy of an image tarball beside containerd's importer, which stores each blob
// under the digest of what it holds: it finds the files under blobs/ whose content does not match
// their name, and notes what the importer's errors do not say (the layout files, the end marker).
type tarCheck struct {
	pw   *io.PipeWriter
	done chan struct{}

	entries   int    // the count of entries read
	bad       string // the first blob whose content does not match its name
	layout    bool   // an oci-layout or a manifest.json was seen
	truncated bool   // the tarball ends without its end marker
	zeros     int    // the count of zero bytes at the end of what was read
}

// checkTar returns a reader of r to import from, and the check of what it reads.
func checkTar(r io.Reader) (io.Reader, *tarCheck) {
	pr, pw := io.Pipe()
	c := &tarCheck{pw: pw, done: make(chan struct{})}
	go c.run(pr)
	return io.TeeReader(r, pw), c
}

func (c *tarCheck) run(r io.Reader) {
	defer close(c.done)
	defer func() { _, _ = io.Copy(io.Discard, r) }() // the importer's reads wait for this one's
	tr := tar.NewReader(c.counter(r))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			c.truncated = c.zeros < 2*512 // a tarball ends with two zero blocks
		}
		if err != nil {
			return
		}
		c.entries++
		switch name := path.Clean(hdr.Name); {
		case name == ocispec.ImageLayoutFile || name == "manifest.json":
			c.layout = true
		case strings.HasPrefix(name, ocispec.ImageBlobsDir+"/") && c.bad == "":
			c.bad = mismatch(name, tr)
		}
	}
}

// counter returns r, counting the zero bytes that end what was read from it.
func (c *tarCheck) counter(r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		n, err := r.Read(p)
		i := n - 1
		for i >= 0 && p[i] == 0 {
			i--
		}
		if i >= 0 {
			c.zeros = 0
		}
		c.zeros += n - 1 - i
		return n, err
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// finish reads what the importer left of the tarball, so that the check sees all of it, and
// waits for the check.
func (c *tarCheck) finish(r io.Reader) {
	_, _ = io.Copy(io.Discard, r)
	c.pw.Close()
	<-c.done
}

// mismatch returns how blob file name (blobs/ALGORITHM/ENCODED) does not hold the content its name
// says, or "" when it does or its name is no digest.
func mismatch(name string, r io.Reader) string {
	parts := strings.Split(name, "/")
	if len(parts) != 3 {
		return ""
	}
	want, err := digest.Parse(parts[1] + ":" + parts[2])
	if err != nil {
		return ""
	}
	d := want.Algorithm().Digester()
	if _, err := io.Copy(d.Hash(), r); err != nil {
		return "" // a read error is the importer's to report
	}
	if got := d.Digest(); got != want {
		return fmt.Sprintf("%s holds content of digest %s", name, got)
	}
	return ""
}

// err returns the error of an import from the checked tarball: nil when the import succeeded and
// every blob matched its name, else what was wrong with the tarball as far as the check tells.
func (c *tarCheck) err(importErr error) error {
	switch {
	case c.bad != "":
		return fmt.Errorf("a blob does not match its digest: %s: %w", c.bad, errdefs.ErrInvalidArgument)
	case importErr == nil:
		return nil
	case c.entries == 0 || errors.Is(importErr, tar.ErrHeader):
		return fmt.Errorf("not a tar archive, or a corrupt one: %w: %w", importErr, errdefs.ErrInvalidArgument)
	case c.truncated || errors.Is(importErr, io.ErrUnexpectedEOF):
		return fmt.Errorf("the tarball is truncated: %w: %w", importErr, errdefs.ErrInvalidArgument)
	case !c.layout:
		return fmt.Errorf("not an image tarball: want an OCI layout (oci-layout, index.json, blobs/) or a docker-archive (manifest.json, as docker save writes it): %w", errdefs.ErrInvalidArgument)
	case errdefs.IsNotFound(importErr):
		return fmt.Errorf("the tarball lacks a blob its images refer to: %w", importErr)
	}
	return importErr
}
