package keeper

import (
	"fmt"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
)

// Log formats a container's log file can be written in.
// AnnotationReopenLog, as an annotation of the task API's Update, asks a keeper to reopen its log file
// at its path, as after the file was moved away (the CRI's ReopenContainerLog); the request's resources
// are then ignored.
const AnnotationReopenLog = "io.corral.log.reopen"

const (
	// LogFormatJSONFile is Docker's json-file format: one JSON object per line.
	LogFormatJSONFile = "json-file"
	// LogFormatCRI is the Kubernetes CRI format: "<time> <stream> <P|F> <line>".
	LogFormatCRI = "cri"
)

// Log configures the log files keepers write for containers that run detached.
type Log struct {
	// MaxSize is the size at which a log file is rotated. Default 10m.
	MaxSize Size `toml:"max_size"`
	// MaxFile is how many files a container's log keeps, the current one included. Default 3.
	MaxFile int `toml:"max_file"`
	// Format is LogFormatJSONFile or LogFormatCRI. Default json-file.
	Format string `toml:"format"`
}

// DefaultLog returns the log settings used when the config names none.
func DefaultLog() Log {
	return Log{MaxSize: 10 << 20, MaxFile: 3, Format: LogFormatJSONFile}
}

// Validate checks the log settings.
func (l Log) Validate() error {
	if l.MaxSize <= 0 {
		return fmt.Errorf("log max_size must be positive, got %d: %w", l.MaxSize, errdefs.ErrInvalidArgument)
	}
	if l.MaxFile < 1 {
		return fmt.Errorf("log max_file must be at least 1, got %d: %w", l.MaxFile, errdefs.ErrInvalidArgument)
	}
	return ValidateLogFormat(l.Format)
}

// ValidateLogFormat checks that format is LogFormatJSONFile or LogFormatCRI.
func ValidateLogFormat(format string) error {
	if format != LogFormatJSONFile && format != LogFormatCRI {
		return fmt.Errorf("log format %q is not one of %s, %s: %w", format, LogFormatJSONFile, LogFormatCRI, errdefs.ErrInvalidArgument)
	}
	return nil
}

// Size is a byte count written like Docker's log-opt max-size: "100k", "10m", "1g" (powers of 1024).
type Size int64

// ParseSize parses a size such as "10m" into bytes, as Docker parses max-size.
func ParseSize(s string) (Size, error) {
	n, err := units.RAMInBytes(s)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q (want e.g. \"10m\"): %w", s, errdefs.ErrInvalidArgument)
	}
	return Size(n), nil
}

// UnmarshalText parses a size string.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	*s = v
	return err
}

// MarshalText writes the size in the largest unit that divides it.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// String returns the size in the largest unit that divides it, such as "10m".
func (s Size) String() string {
	for _, u := range []struct {
		suffix string
		n      Size
	}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if s != 0 && s%u.n == 0 {
			return strconv.FormatInt(int64(s/u.n), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(s), 10)
}
