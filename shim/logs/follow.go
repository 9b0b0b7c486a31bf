package logs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/containerd/errdefs"
)

// pollInterval is how often a follow looks for new records and rotations.
var pollInterval = 200 * time.Millisecond

// logFile reads the records of one file of a log, which may still be growing.
type logFile struct {
	f       *os.File
	info    os.FileInfo
	r       *bufio.Reader
	pending []byte // an unterminated last line: the rest of it has not been written yet
}

func openLog(name string) (*logFile, error) {
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("failed to open log %s: %w", name, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to open log %s: %w", name, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("failed to open log %s: %w", name, err)
	}
	return &logFile{f: f, info: info, r: bufio.NewReaderSize(f, 64<<10)}, nil
}

// drain calls fn with every complete record the file holds now.
func (l *logFile) drain(fn func(Record) error) error {
	for {
		b, err := l.r.ReadBytes('\n')
		if err != nil {
			l.pending = append(l.pending, b...)
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("failed to read log %s: %w", l.f.Name(), err)
		}
		if len(l.pending) > 0 {
			b = append(l.pending, b...)
			l.pending = l.pending[:0]
		}
		r, err := decode(b)
		if err != nil {
			continue // a torn or foreign line
		}
		if err := fn(r); err != nil {
			return err
		}
	}
}

// follow delivers the records written to the log at path after cur's end, moving to the new file
// when the log rotates, until ctx is done or done reports true and the file is drained.
func follow(ctx context.Context, path string, cur *logFile, done func() bool, fn func(Record) error) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		last := done != nil && done() // asked before draining, so that nothing written before is missed
		if err := cur.drain(fn); err != nil {
			return err
		}
		if info, err := os.Stat(path); err == nil && !os.SameFile(info, cur.info) {
			// The writer closed cur before rotating it: what it holds now is all it will hold.
			if err := cur.drain(fn); err != nil {
				return err
			}
			if next, err := newer(path, cur, fn); err != nil {
				return err
			} else if next != nil {
				cur.f.Close()
				*cur = *next
				continue
			}
		}
		if last {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// newer delivers the records of the files rotated after cur (all of them if cur is gone) and
// returns the current file, or nil if the log is between two files.
func newer(path string, cur *logFile, fn func(Record) error) (*logFile, error) {
	files, err := openAll(path)
	if errdefs.IsNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var next *logFile
	defer func() {
		for _, f := range files {
			if f != next {
				f.f.Close()
			}
		}
	}()
	rest := files
	if i := slices.IndexFunc(files, func(f *logFile) bool { return os.SameFile(f.info, cur.info) }); i >= 0 {
		rest = files[i+1:]
	}
	if len(rest) == 0 {
		return nil, nil
	}
	for _, f := range rest[:len(rest)-1] {
		if err := f.drain(fn); err != nil {
			return nil, err
		}
	}
	next = rest[len(rest)-1]
	return next, nil
}
