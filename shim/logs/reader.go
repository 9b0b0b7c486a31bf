package logs

import (
	"context"
	"os"
	"slices"
	"time"

	"github.com/containerd/errdefs"
)

// ReadOptions selects the records Read delivers.
type ReadOptions struct {
	// Tail delivers only the last Tail records the log already holds; negative means all of them.
	Tail int
	// Since skips records older than Since.
	Since time.Time
	// Follow goes on delivering records as they are written, across rotations, until ctx is done
	// or Done reports true.
	Follow bool
	// Done, when following, reports that nothing more will be written to the log, such as when the
	// container has exited: Read then returns once it has delivered what the log holds.
	Done func() bool
}

// Read calls fn with the records of the log at path, oldest first, across its rotated files. Lines
// that are not records of either format are skipped. It returns ctx's error when ctx ends a Follow,
// and fn's error as soon as fn fails.
func Read(ctx context.Context, path string, o ReadOptions, fn func(Record) error) error {
	files, err := openAll(path)
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range files {
			f.f.Close()
		}
	}()
	deliver := fn
	tail := &ring{n: o.Tail}
	if o.Tail >= 0 {
		deliver = tail.push
	}
	since := func(r Record) error {
		if r.Time.Before(o.Since) {
			return nil
		}
		return deliver(r)
	}
	for _, f := range files {
		if err := f.drain(since); err != nil {
			return err
		}
	}
	for _, r := range tail.records() {
		if err := fn(r); err != nil {
			return err
		}
	}
	if !o.Follow {
		return nil
	}
	return follow(ctx, path, files[len(files)-1], o.Done, func(r Record) error {
		if r.Time.Before(o.Since) {
			return nil
		}
		return fn(r)
	})
}

// openAll opens the files of the log at path, oldest first. It opens the newest first, so that a
// rotation meanwhile shows a file twice, dropped here, rather than hiding one.
func openAll(path string) ([]*logFile, error) {
	var files []*logFile
	for i := 0; ; i++ {
		f, err := openLog(rotated(path, i))
		if i > 0 && errdefs.IsNotFound(err) {
			break
		}
		if err != nil {
			for _, f := range files {
				f.f.Close()
			}
			return nil, err
		}
		if slices.ContainsFunc(files, func(g *logFile) bool { return os.SameFile(f.info, g.info) }) {
			f.f.Close()
			continue
		}
		files = append(files, f)
	}
	slices.Reverse(files)
	return files, nil
}

// ring keeps the last n records pushed.
type ring struct {
	n, next int
	rs      []Record
}

func (r *ring) push(rec Record) error {
	switch {
	case r.n <= 0:
	case len(r.rs) < r.n:
		r.rs = append(r.rs, rec)
	default:
		r.rs[r.next] = rec
		r.next = (r.next + 1) % r.n
	}
	return nil
}

func (r *ring) records() []Record { return slices.Concat(r.rs[r.next:], r.rs[:r.next]) }
