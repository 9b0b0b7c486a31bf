package tasks

import (
	"encoding/json"
	"fmt"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// processTypeURL is the type URL of an OCI process carried, JSON-encoded, in Tasks.Exec's Spec.
const processTypeURL = "types.containerd.io/opencontainers/runtime-spec/1/Process"

// execProcess returns the OCI process of exec o, as ctr builds one: a copy of the container spec's
// process (user, capabilities, rlimits, env, cwd and the rest) with o's command, --env applied to
// the env and --cwd replacing the cwd. Without a process in the spec it runs as 0:0 in "/". The env
// gets the default PATH unless the container or --env sets one. It has a terminal with --tty.
func execProcess(o execOptions, spec *anypb.Any) (*specs.Process, error) {
	if o.cwd != "" && !path.IsAbs(o.cwd) {
		return nil, fmt.Errorf("invalid --cwd %q: want an absolute path", o.cwd)
	}
	var p specs.Process
	if v := spec.GetValue(); len(v) > 0 {
		var s specs.Spec
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("spec of container %s is not an OCI spec: %w", o.id, err)
		}
		if s.Process != nil {
			p = *s.Process
		}
	}
	env, err := commands.MergeEnv(append([]string{commands.DefaultPath}, p.Env...), o.env)
	if err != nil {
		return nil, err
	}
	p.Args, p.Env, p.CommandLine = o.args, env, ""
	p.Terminal, p.ConsoleSize = o.tty, nil
	if o.cwd != "" {
		p.Cwd = o.cwd
	}
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	return &p, nil
}
