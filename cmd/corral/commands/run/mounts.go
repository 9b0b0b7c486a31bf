package run

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// mountKeys are the fields --mount accepts, as an error lists them.
const mountKeys = "type=bind|tmpfs, src|source=PATH, dst|destination|target=PATH, ro|readonly[=true|false], " +
	"rw, tmpfs-size=SIZE, tmpfs-mode=OCTAL"

// parseMount parses a --mount value, comma-separated fields as Docker takes them: a bind mount
// (the default type) of an existing host path, or a tmpfs.
func parseMount(value string) (specs.Mount, error) {
	bad := func(format string, a ...any) (specs.Mount, error) {
		return specs.Mount{}, fmt.Errorf("invalid --mount %q: %s: %w", value, fmt.Sprintf(format, a...), errdefs.ErrInvalidArgument)
	}
	typ, src, dst, ro := "bind", "", "", false
	var tmpfs []string
	for _, field := range strings.Split(value, ",") {
		k, v, hasValue := strings.Cut(field, "=")
		switch k {
		case "type":
			typ = v
		case "src", "source":
			src = v
		case "dst", "destination", "target":
			dst = v
		case "ro", "readonly":
			b, err := strconv.ParseBool(v)
			if hasValue && err != nil {
				return bad("%s=%q: want true or false", k, v)
			}
			ro = !hasValue || b
		case "rw":
			ro = false
		case "tmpfs-size":
			n, err := units.RAMInBytes(v)
			if err != nil || n <= 0 {
				return bad("tmpfs-size=%q: want a size such as 64m", v)
			}
			tmpfs = append(tmpfs, "size="+strconv.FormatInt(n, 10))
		case "tmpfs-mode":
			if _, err := strconv.ParseUint(v, 8, 32); err != nil {
				return bad("tmpfs-mode=%q: want an octal mode such as 1777", v)
			}
			tmpfs = append(tmpfs, "mode="+v)
		default:
			return bad("unknown field %q; accepted are %s", field, mountKeys)
		}
	}
	if dst == "" {
		return bad("dst=PATH is missing")
	}
	m := specs.Mount{Destination: dst, Type: typ}
	switch {
	case typ == "tmpfs" && src != "":
		return bad("a tmpfs takes no src")
	case typ == "tmpfs":
		m.Source, m.Options = "tmpfs", append([]string{"nosuid", "nodev"}, tmpfs...)
	case typ != "bind":
		return bad("type %q: accepted are bind and tmpfs", typ)
	case len(tmpfs) > 0:
		return bad("tmpfs-size and tmpfs-mode need type=tmpfs")
	case src == "":
		return bad("src=PATH is missing")
	default:
		m.Source, m.Options = src, []string{"rbind"}
	}
	if ro {
		m.Options = append(m.Options, "ro")
	}
	if err := checkMount(&m); err != nil {
		return bad("%v", err)
	}
	return m, nil
}

// parseVolume parses a -v SRC:DST[:ro|rw] value: a bind mount of an existing host path.
func parseVolume(value string) (specs.Mount, error) {
	parts := strings.Split(value, ":")
	m := specs.Mount{Type: "bind", Options: []string{"rbind"}}
	switch {
	case len(parts) == 3 && parts[2] == "ro":
		m.Options = append(m.Options, "ro")
	case len(parts) == 3 && parts[2] == "rw", len(parts) == 2:
	default:
		return specs.Mount{}, fmt.Errorf("invalid -v %q: want SRC:DST, SRC:DST:ro or SRC:DST:rw: %w", value, errdefs.ErrInvalidArgument)
	}
	m.Source, m.Destination = parts[0], parts[1]
	if err := checkMount(&m); err != nil {
		return specs.Mount{}, fmt.Errorf("invalid -v %q: %v: %w", value, err, errdefs.ErrInvalidArgument)
	}
	return m, nil
}

// checkMount checks that m's destination is an absolute path other than /, and makes a bind source
// absolute, checking that it exists: a relative one must start with . or .. (a bare name would be a
// Docker named volume, which corral has not).
func checkMount(m *specs.Mount) error {
	if !filepath.IsAbs(m.Destination) || filepath.Clean(m.Destination) == "/" {
		return fmt.Errorf("destination %q must be an absolute path other than /", m.Destination)
	}
	if m.Type != "bind" {
		return nil
	}
	src := m.Source
	if !filepath.IsAbs(src) && src != "." && src != ".." && !strings.HasPrefix(src, "./") && !strings.HasPrefix(src, "../") {
		return fmt.Errorf("source %q must be a host path, absolute or starting with ./ (named volumes are not supported)", src)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("source %s cannot be bind-mounted: %w", abs, err)
	}
	m.Source = abs
	return nil
}
