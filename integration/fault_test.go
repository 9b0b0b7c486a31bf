package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// faultyRuntime stands in for runc: it passes every call to runc but fails `start` with a runtime
// error line in the JSON log, and, when refused_kill is set, refuses kill like runsc does for a
// created container.
const faultyRuntime = `#!/bin/sh
log=
prev=
for a in "$@"; do
	[ "$prev" = --log ] && log=$a
	prev=$a
	case "$a" in
	start)
		echo '{"level":"error","msg":"faulty: cannot start this container"}' >> "$log"
		exit 1 ;;
	kill)
		echo '{"level":"error","msg":"faulty: cannot signal a created container"}' >> "$log"
		exit 1 ;;
	esac
done
exec /usr/sbin/runc "$@"
`

// TestStartFailureCleansUp fails `start` and `kill` of a runtime: run --rm reports the runtime's
// own error line and leaves nothing behind (delete --force still runs when kill fails).
func TestStartFailureCleansUp(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "faulty")
	if err := os.WriteFile(bin, []byte(faultyRuntime), 0o755); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "[runtimes.faulty]\npath = \""+bin+"\"\n[timeouts]\nruntime_call = \"5s\"\n")
	r := d.corral("run", "--rm", "--runtime", "faulty", "--rootfs", rootfs, "f1", "true")
	if r.code != 1 || !strings.Contains(r.stderr, "faulty: cannot start this container") {
		t.Fatalf("exit %d stderr %q, want 1 and the runtime's error line", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "did not terminate successfully") {
		t.Errorf("stderr %q carries go-runc's wrapper after the runtime's line", r.stderr)
	}
	d.assertGone(t, "f1")
	if entries, _ := os.ReadDir(filepath.Join(d.Root(), "bundles", "default")); len(entries) > 0 {
		t.Errorf("bundles left: %v", entries)
	}
}
