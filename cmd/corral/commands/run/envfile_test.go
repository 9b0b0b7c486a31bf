package run

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadEnvFile(t *testing.T) {
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"HOME": "/home/me", "EMPTY": ""}[k]
		return v, ok
	}
	for _, tc := range []struct {
		name, content string
		want          []string
		wantErr       string
	}{
		{name: "pairs", content: "A=1\nB=x=y\nC=\n", want: []string{"A=1", "B=x=y", "C="}},
		{name: "comments and blanks", content: "# a comment\n\n   \n  A=1\n#B=2\n", want: []string{"A=1"}},
		{name: "value kept as it is", content: "A= spaced value \"quoted\" \n", want: []string{"A= spaced value \"quoted\" "}},
		{name: "bare key from the caller", content: "HOME\nEMPTY\nUNSET\n", want: []string{"HOME=/home/me", "EMPTY="}},
		{name: "byte order mark", content: "\uFEFFA=1\n", want: []string{"A=1"}},
		{name: "no trailing newline", content: "A=1", want: []string{"A=1"}},
		{name: "empty", content: "", want: nil},
		{name: "no key", content: "A=1\n=2\n", wantErr: `line 2 "=2": want KEY=VALUE or KEY`},
		{name: "space in key", content: "MY VAR=1\n", wantErr: `line 1 "MY VAR=1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "env")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readEnvFile(path, lookup)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "--env-file "+path) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := readEnvFile(filepath.Join(t.TempDir(), "nope"), lookup); err == nil || !strings.Contains(err.Error(), "--env-file") {
		t.Errorf("missing file: err = %v", err)
	}
}
