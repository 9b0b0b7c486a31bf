package shim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// RuntimeError returns err with the runtime's own last error line, logged in its JSON log at or after
// byte offset from, prepended: that line is what the user needs to read.
func RuntimeError(err error, logPath string, from int64) error {
	if msg := lastErrorLine(logPath, from); msg != "" {
		return fmt.Errorf("%s: %w", msg, err)
	}
	return err
}

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
