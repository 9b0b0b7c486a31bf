package api

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// Labels of a container that corrald supervises. Clients set LabelRestart and LabelAutoRemove when
// they create the container (`corral run -d --restart`, `corral run --rm`); corrald writes
// LabelRestartCount; clients set LabelStoppedByUser.
const (
	// LabelRestart is the container's restart policy, as ParseRestartPolicy reads it. When the task
	// exits, corrald deletes it and creates and starts a new one with the same stdio and log.
	LabelRestart = "io.corral.restart"
	// LabelRestartCount is how often corrald restarted the container's task since a client last
	// created one.
	LabelRestartCount = "io.corral.restart.count"
	// LabelStoppedByUser is "true" once a user stopped the task on purpose: `corral tasks stop`,
	// `corral tasks kill` with SIGTERM, SIGINT or SIGKILL, and `corral rm -f` set it before they
	// signal. No policy restarts such a task, except "always" when corrald itself restarts. corrald
	// removes the label when a client creates a task.
	LabelStoppedByUser = "io.corral.restart.stopped"
	// LabelAutoRemove, "true", has corrald delete the task and the container, with the task's stdio
	// FIFOs, once the task has exited and no client waits for it.
	LabelAutoRemove = "io.corral.rm"
)

// Restart policy names.
const (
	RestartNo            = "no"
	RestartAlways        = "always"
	RestartOnFailure     = "on-failure"
	RestartUnlessStopped = "unless-stopped"
)

// RestartPolicy says when corrald restarts a container's task after it exits.
type RestartPolicy struct {
	// Name is RestartNo, RestartAlways, RestartOnFailure or RestartUnlessStopped.
	Name string
	// MaxRetries bounds the restarts of RestartOnFailure; 0 means no bound.
	MaxRetries int
}

// ParseRestartPolicy reads "no" (or ""), "always", "unless-stopped", "on-failure" or
// "on-failure:N" with N > 0.
func ParseRestartPolicy(s string) (RestartPolicy, error) {
	name, max, hasMax := strings.Cut(s, ":")
	switch {
	case s == "":
		return RestartPolicy{Name: RestartNo}, nil
	case name == RestartOnFailure && hasMax:
		n, err := strconv.Atoi(max)
		if err != nil || n < 1 {
			return RestartPolicy{}, fmt.Errorf("restart policy %q: the number of retries must be a positive integer: %w", s, errdefs.ErrInvalidArgument)
		}
		return RestartPolicy{Name: name, MaxRetries: n}, nil
	case !hasMax && (name == RestartNo || name == RestartAlways || name == RestartOnFailure || name == RestartUnlessStopped):
		return RestartPolicy{Name: name}, nil
	}
	return RestartPolicy{}, fmt.Errorf("restart policy %q: accepted are no, always, unless-stopped, on-failure and on-failure:N: %w", s, errdefs.ErrInvalidArgument)
}

// String returns the policy as ParseRestartPolicy reads it.
func (p RestartPolicy) String() string {
	if p.Name == RestartOnFailure && p.MaxRetries > 0 {
		return p.Name + ":" + strconv.Itoa(p.MaxRetries)
	}
	return p.Name
}
