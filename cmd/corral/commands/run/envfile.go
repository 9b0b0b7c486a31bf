package run

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"unicode"

	"github.com/containerd/errdefs"
)

// readEnvFile reads an --env-file in Docker's format: a KEY=VALUE per line, taken as it is; blank
// lines and lines starting with # are skipped; a bare KEY takes the value it has in lookup's
// environment (os.LookupEnv), and is left out where it has none.
func readEnvFile(path string, lookup func(string) (string, bool)) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read --env-file: %w", err)
	}
	defer f.Close()
	var env []string
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimLeftFunc(s.Text(), unicode.IsSpace)
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF") // a UTF-8 byte order mark
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, hasValue := strings.Cut(line, "=")
		if k == "" || strings.ContainsFunc(k, unicode.IsSpace) {
			return nil, fmt.Errorf("invalid --env-file %s, line %d %q: want KEY=VALUE or KEY, a KEY without spaces: %w", path, n, line, errdefs.ErrInvalidArgument)
		}
		if hasValue {
			env = append(env, line)
		} else if v, ok := lookup(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("failed to read --env-file %s: %w", path, err)
	}
	return env, nil
}
