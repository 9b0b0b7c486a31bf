package logs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/corral-dev/corral/api/keeper"
)

// Writer writes one container's log file, rotating it by size. Records of its two streams go to the
// file whole, in the order each stream's lines were written.
type Writer struct {
	path string
	cfg  keeper.Log

	mu     sync.Mutex
	f      *os.File // nil after a failed open: the next record tries again
	size   int64
	closed bool
	err    error // the first failure, returned by Close
	enc    *encoder
}

// NewWriter opens the log at path, appending to what it already holds, with c's rotation and format.
func NewWriter(path string, c keeper.Log) (*Writer, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("failed to open log %s: %w", path, err)
	}
	w := &Writer{path: path, cfg: c, enc: newEncoder(c.Format)}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("failed to open log %s: %w", path, err)
	}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

// Stream returns the writer of one stream's output. The two streams may be used concurrently, each
// from one goroutine. Its Write fails only once it is closed, so that the container never blocks
// on its log: the first failure to write the file is kept for Close. Closing the stream writes an
// unterminated last line as a partial record.
func (w *Writer) Stream(s Stream) io.WriteCloser {
	return &streamWriter{w: w, s: s}
}

// Reopen closes the current file and opens the log's path again, as after it was moved away.
func (w *Writer) Reopen() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("failed to reopen log %s: %w", w.path, os.ErrClosed)
	}
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	return w.open()
}

// Close closes the file and returns the first failure to write or rotate it, if any.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.f != nil {
		w.fail(w.f.Close())
		w.f = nil
	}
	return w.err
}

// write appends the record of one line, rotating the file first if the record would overflow it.
func (w *Writer) write(s Stream, line []byte, full bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	rec := w.enc.encode(time.Now().UTC(), s, line, full)
	if w.f != nil && w.size > 0 && w.size+int64(len(rec)) > int64(w.cfg.MaxSize) {
		w.fail(w.rotate())
	}
	if w.f == nil && w.fail(w.open()) {
		return
	}
	n, err := w.f.Write(rec)
	w.size += int64(n)
	w.fail(err)
}

// rotate shifts path to path.1, path.1 to path.2 and so on, dropping the oldest, and opens a new
// file. With one file, the old one is removed instead.
func (w *Writer) rotate() error {
	err := w.f.Close()
	w.f = nil
	if w.cfg.MaxFile == 1 {
		if rerr := os.Remove(w.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	for i := w.cfg.MaxFile - 1; i > 0; i-- {
		rerr := os.Rename(rotated(w.path, i-1), rotated(w.path, i))
		if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	if err != nil {
		err = fmt.Errorf("failed to rotate log %s: %w", w.path, err)
	}
	return errors.Join(err, w.open())
}

func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("failed to open log %s: %w", w.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("failed to open log %s: %w", w.path, err)
	}
	w.f, w.size = f, st.Size()
	return nil
}

// fail keeps err if it is the first failure, and reports whether err is one.
func (w *Writer) fail(err error) bool {
	if err != nil && w.err == nil {
		w.err = err
	}
	return err != nil
}

// rotated is the name of the i-th file of the log at path: path itself for 0, else path.i.
func rotated(path string, i int) string {
	if i == 0 {
		return path
	}
	return path + "." + strconv.Itoa(i)
}
