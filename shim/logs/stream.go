package logs

import (
	"bytes"
	"os"
)

// streamWriter splits one stream's output into lines and hands each to its Writer.
type streamWriter struct {
	w       *Writer
	s       Stream
	pending []byte // the start of a line whose "\n" has not come yet, at most MaxLineSize bytes
	closed  bool
}

// Write records every line p completes and keeps the rest for the next call.
func (sw *streamWriter) Write(p []byte) (int, error) {
	if sw.closed {
		return 0, os.ErrClosed
	}
	n := len(p)
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		line := p[:i]
		if len(sw.pending) > 0 {
			sw.pending = append(sw.pending, line...)
			line = sw.pending
		}
		sw.emit(line, true)
		sw.pending, p = sw.pending[:0], p[i+1:]
	}
	sw.pending = append(sw.pending, p...)
	if l := len(sw.pending); l > MaxLineSize {
		keep := (l-1)%MaxLineSize + 1 // emit whole chunks, keep at most MaxLineSize
		sw.emit(sw.pending[:l-keep], false)
		sw.pending = append(sw.pending[:0], sw.pending[l-keep:]...)
	}
	return n, nil
}

// Close records an unterminated last line as a partial record.
func (sw *streamWriter) Close() error {
	if sw.closed {
		return nil
	}
	sw.closed = true
	if len(sw.pending) > 0 {
		sw.emit(sw.pending, false)
		sw.pending = nil
	}
	return nil
}

// emit records line in chunks of at most MaxLineSize; all but the last are partial.
func (sw *streamWriter) emit(line []byte, full bool) {
	for len(line) > MaxLineSize {
		sw.w.write(sw.s, line[:MaxLineSize], false)
		line = line[MaxLineSize:]
	}
	sw.w.write(sw.s, line, full)
}
