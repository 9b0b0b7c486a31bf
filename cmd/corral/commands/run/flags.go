package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// flags are the run flags, parsed and checked before anything is created.
type flags struct {
	env    []string          // the --env-file entries, then the --env ones, KEY=VALUE each
	opts   []oci.SpecOpts    // --user, --hostname, --read-only, mounts and resources, applied after the image's config
	labels map[string]string // --label, then corral's own: log, restart, auto-remove
}

// hostnamePattern is what --hostname accepts: what sethostname(2) takes, in the characters of DNS names.
var hostnamePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,62}[A-Za-z0-9])?$`)

// parseFlags checks the run flags of o and turns them into spec options and labels.
func parseFlags(o options) (f flags, err error) {
	for _, path := range o.envFiles {
		env, err := readEnvFile(path, os.LookupEnv)
		if err != nil {
			return f, err
		}
		f.env = append(f.env, env...)
	}
	if f.env, err = commands.MergeEnv(f.env, o.env); err != nil {
		return f, err
	}
	if o.cwd != "" && !filepath.IsAbs(o.cwd) {
		return f, fmt.Errorf("invalid --cwd %q: must be an absolute path: %w", o.cwd, errdefs.ErrInvalidArgument)
	}
	if o.user != "" {
		name, group, hasGroup := strings.Cut(o.user, ":")
		if name == "" || hasGroup && (group == "" || strings.Contains(group, ":")) {
			return f, fmt.Errorf("invalid --user %q: want UID[:GID] or NAME[:GROUP]: %w", o.user, errdefs.ErrInvalidArgument)
		}
		f.opts = append(f.opts, flagOpt("--user", o.user, oci.WithUser(o.user)), flagOpt("--user", o.user, oci.WithAdditionalGIDs(name)))
	}
	if o.hostname != "" {
		if !hostnamePattern.MatchString(o.hostname) {
			return f, fmt.Errorf("invalid --hostname %q: want up to 64 letters, digits, '-' and '.': %w", o.hostname, errdefs.ErrInvalidArgument)
		}
		f.opts = append(f.opts, oci.WithHostname(o.hostname))
	}
	if o.readOnly {
		f.opts = append(f.opts, oci.WithRootFSReadonly())
	}
	var mounts []specs.Mount
	for _, v := range o.mounts {
		m, err := parseMount(v)
		if err != nil {
			return f, err
		}
		mounts = append(mounts, m)
	}
	for _, v := range o.volumes {
		m, err := parseVolume(v)
		if err != nil {
			return f, err
		}
		mounts = append(mounts, m)
	}
	f.opts = append(f.opts, oci.WithMounts(mounts))
	res, err := commands.ParseResources(o.memory, o.cpus, o.pidsLimit)
	if err != nil {
		return f, err
	}
	if res.Memory != nil {
		f.opts = append(f.opts, oci.WithMemoryLimit(uint64(*res.Memory.Limit)))
	}
	if res.CPU != nil {
		f.opts = append(f.opts, oci.WithCPUCFS(*res.CPU.Quota, *res.CPU.Period))
	}
	if res.Pids != nil {
		f.opts = append(f.opts, oci.WithPidsLimit(*res.Pids.Limit))
	}
	f.labels, err = userLabels(o.labels)
	if err != nil {
		return f, err
	}
	own, err := labels(o)
	if err != nil {
		return f, err
	}
	for k, v := range own {
		f.labels[k] = v
	}
	return f, nil
}

// userLabels parses the --label K=V values; keys of corral's own labels (io.corral.*) are refused.
func userLabels(values []string) (map[string]string, error) {
	l := map[string]string{}
	for _, kv := range values {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok || k == "":
			return nil, fmt.Errorf("invalid --label %q: want KEY=VALUE: %w", kv, errdefs.ErrInvalidArgument)
		case strings.HasPrefix(k, "io.corral."):
			return nil, fmt.Errorf("invalid --label %q: io.corral.* labels are set by corral's own flags: %w", kv, errdefs.ErrInvalidArgument)
		}
		l[k] = v
	}
	return l, nil
}

// flagOpt names the flag and its value in the error of opt.
func flagOpt(flag, value string, opt oci.SpecOpts) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, r *containers.Container, s *oci.Spec) error {
		if err := opt(ctx, c, r, s); err != nil {
			return fmt.Errorf("invalid %s %q: %w", flag, value, err)
		}
		return nil
	}
}
