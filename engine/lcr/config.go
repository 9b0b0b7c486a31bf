package lcr

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/containerd/errdefs"
)

// Line is one LXC configuration item: `key = value`.
type Line struct {
	Key, Value string
}

// Config is an LXC container configuration: its items in the order LXC applies them.
type Config struct {
	Lines []Line
	// Seccomp is the seccomp policy (LXC's version 2 format) to write at TranslateOpts.SeccompPath,
	// or "" for none.
	Seccomp string
}

// add appends key = value. Callers have validated value with checkValue.
func (c *Config) add(key, value string) {
	c.Lines = append(c.Lines, Line{Key: key, Value: value})
}

// Value returns the last value of key, or "".
func (c *Config) Value(key string) string {
	for i := len(c.Lines) - 1; i >= 0; i-- {
		if c.Lines[i].Key == key {
			return c.Lines[i].Value
		}
	}
	return ""
}

// Marshal renders the config file. Every value is written in double quotes: LXC trims blanks around a
// value and then strips one pair of matching quotes, so a quoted value is read back exactly, blanks and
// inner quotes included. Values never hold control characters (checkValue rejects them).
func (c *Config) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("# Written by corral from the container's OCI spec.\n")
	for _, l := range c.Lines {
		fmt.Fprintf(&b, "%s = \"%s\"\n", l.Key, l.Value)
	}
	return b.Bytes()
}

// ParseLine reads one line of a config as LXC 5 does (src/lxc/confile.c: parse_line): blanks around
// the key and the value are dropped, then one pair of matching quotes around the value. It returns
// ok=false for blank lines and comments.
func ParseLine(line string) (key, value string, ok bool, err error) {
	s := strings.TrimLeft(line, " \t")
	if s == "" || s[0] == '#' {
		return "", "", false, nil
	}
	k, v, found := strings.Cut(s, "=")
	if !found {
		return "", "", false, fmt.Errorf("invalid configuration line %q: no '='", line)
	}
	k = strings.TrimRight(k, " \t")
	v = strings.TrimRight(strings.TrimLeft(v, " \t"), " \t\n")
	if len(v) > 1 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	return k, v, true, nil
}

// keys are the LXC 5 configuration keys the translation writes; prefixes end in '.'.
var keys = map[string]bool{
	"lxc.uts.name": true, "lxc.rootfs.path": true, "lxc.rootfs.options": true, "lxc.rootfs.mount": true,
	"lxc.namespace.clone": true, "lxc.namespace.share.": true, "lxc.net.0.type": true,
	"lxc.autodev": true, "lxc.pty.max": true, "lxc.tty.max": true, "lxc.console.path": true,
	"lxc.cgroup.relative": true, "lxc.cgroup.dir.container": true, "lxc.cgroup.dir.monitor": true,
	"lxc.cgroup.": true, "lxc.cgroup2.": true, "lxc.environment": true,
	"lxc.init.cwd": true, "lxc.init.uid": true, "lxc.init.gid": true, "lxc.init.groups": true,
	"lxc.cap.keep": true, "lxc.prlimit.": true, "lxc.no_new_privs": true, "lxc.apparmor.profile": true,
	"lxc.selinux.context": true, "lxc.proc.oom_score_adj": true, "lxc.mount.entry": true, "lxc.mount.auto": true,
	"lxc.sysctl.": true, "lxc.idmap": true, "lxc.arch": true, "lxc.time.offset.boot": true,
	"lxc.time.offset.monotonic": true, "lxc.signal.stop": true, "lxc.hook.version": true, "lxc.hook.mount": true,
	"lxc.seccomp.profile": true,
}

// KnownKey reports whether key is one the translation may write.
func KnownKey(key string) bool {
	if keys[key] && !strings.HasSuffix(key, ".") {
		return true
	}
	for p := range keys {
		if strings.HasSuffix(p, ".") && strings.HasPrefix(key, p) && len(key) > len(p) && validKeyPart(key[len(p):]) {
			return true
		}
	}
	return false
}

// validKeyPart reports whether s may end a config key: letters, digits and . _ - only.
func validKeyPart(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// checkValue rejects what no config line can carry: control characters (a newline would start a
// line of its own) and invalid UTF-8. field names the spec field the value comes from.
func checkValue(field, v string) error {
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return invalid(field, fmt.Sprintf("contains the control character %U, which an LXC config line cannot carry", r))
		}
	}
	return nil
}

// invalid is the error for a spec field with a value LXC cannot take.
func invalid(field, why string) error {
	return fmt.Errorf("%s %s: %w", field, why, errdefs.ErrInvalidArgument)
}

// unsupported is the error for a spec field LXC cannot express.
func unsupported(field, why string) error {
	return fmt.Errorf("%s cannot be expressed in an LXC config: %s: %w", field, why, errdefs.ErrNotImplemented)
}
