package shim

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// bounded runs one invocation of a runtime or LXC tool, f, with ctx bounded by limit. If the limit
// passes, the error names the tool, the step and the limit, whatever f returned: the invocation was
// killed (its whole process group, by the reaper).
func bounded(ctx context.Context, limit time.Duration, tool, step string, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	err := f(ctx)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s %s did not finish within %s: %w", tool, step, limit, context.DeadlineExceeded)
	}
	return err
}

// RuntimeError returns err told by the runtime's own last error line, logged in its JSON log at or
// after byte offset from: that line is what the user needs to read.
func RuntimeError(err error, logPath string, from int64) error {
	if msg := lastErrorLine(logPath, from); msg != "" {
		return &runtimeError{msg: msg, err: err}
	}
	return err
}

// runtimeError reads as the runtime's own error line alone; go-runc's wrapping ("… did not terminate
// successfully: exit status 1", or the runtime's output a second time) stays reachable by errors.As.
type runtimeError struct {
	msg string
	err error
}

func (e *runtimeError) Error() string { return e.msg }
func (e *runtimeError) Unwrap() error { return e.err }

// LogSize returns the current size of the runtime log, to pass to RuntimeError after a call.
func LogSize(logPath string) int64 {
	fi, err := os.Stat(logPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func lastErrorLine(path string, from int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return ""
	}
	var last string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		var l struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(s.Bytes(), &l) == nil && (l.Level == "error" || l.Level == "fatal") && l.Msg != "" {
			last = l.Msg
		}
	}
	return last
}
