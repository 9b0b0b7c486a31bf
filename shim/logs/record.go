// Package logs writes and reads a container's log file, in Docker's json-file format or the CRI
// format, rotated by size. The keeper writes it through a Writer (or ServeBinary, containerd's
// binary:// logger protocol); corral reads it back with Read.
package logs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/api/keeper"
)

// Stream names the output a line came from.
type Stream string

const (
	// Stdout is the container's standard output.
	Stdout Stream = "stdout"
	// Stderr is the container's standard error.
	Stderr Stream = "stderr"
)

// MaxLineSize is the most a record holds of one line; a longer line is split into partial records.
const MaxLineSize = 16 << 10

// Record is one entry of a log.
type Record struct {
	// Time is when the keeper read the line, in UTC.
	Time time.Time
	// Stream is the output the line came from.
	Stream Stream
	// Line is what the container wrote; it ends in "\n" unless the line is partial.
	Line string
}

// jsonRecord is a record in the json-file format.
type jsonRecord struct {
	Log    string    `json:"log"`
	Stream Stream    `json:"stream"`
	Time   time.Time `json:"time"`
}

// encoder appends records in one format to a reusable buffer.
type encoder struct {
	cri bool
	buf bytes.Buffer
	enc *json.Encoder
}

func newEncoder(format string) *encoder {
	e := &encoder{cri: format == keeper.LogFormatCRI}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// encode returns the record of one line (without its "\n"), valid until the next call.
func (e *encoder) encode(t time.Time, s Stream, line []byte, full bool) []byte {
	e.buf.Reset()
	if !e.cri {
		text := string(line)
		if full {
			text += "\n"
		}
		_ = e.enc.Encode(jsonRecord{Log: text, Stream: s, Time: t}) // cannot fail for these types
		return e.buf.Bytes()
	}
	b := t.AppendFormat(e.buf.AvailableBuffer(), time.RFC3339Nano)
	b = append(append(b, ' '), s...)
	if full {
		b = append(b, " F "...)
	} else {
		b = append(b, " P "...)
	}
	b = append(append(b, line...), '\n')
	e.buf.Write(b) // b is the buffer's own free space: this only sets its length
	return e.buf.Bytes()
}

// decode parses one record of either format, with or without its trailing newline.
func decode(b []byte) (Record, error) {
	b = bytes.TrimSuffix(b, []byte("\n"))
	var r Record
	if len(b) > 0 && b[0] == '{' {
		var j jsonRecord
		if err := json.Unmarshal(b, &j); err != nil {
			return r, fmt.Errorf("failed to decode log record %.40q: %w", b, errdefs.ErrDataLoss)
		}
		r = Record{Time: j.Time, Stream: j.Stream, Line: j.Log}
	} else {
		f := bytes.SplitN(b, []byte(" "), 4)
		if len(f) != 4 || (string(f[2]) != "P" && string(f[2]) != "F") {
			return r, fmt.Errorf("failed to decode log record %.40q: %w", b, errdefs.ErrDataLoss)
		}
		t, err := time.Parse(time.RFC3339Nano, string(f[0]))
		if err != nil {
			return r, fmt.Errorf("failed to decode log record %.40q: %w", b, errdefs.ErrDataLoss)
		}
		r = Record{Time: t, Stream: Stream(f[1]), Line: string(f[3])}
		if f[2][0] == 'F' {
			r.Line += "\n"
		}
	}
	if r.Stream != Stdout && r.Stream != Stderr {
		return r, fmt.Errorf("failed to decode log record %.40q: unknown stream %q: %w", b, r.Stream, errdefs.ErrDataLoss)
	}
	return r, nil
}
