package run

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/api"
)

// labels are the container labels corrald acts on: the log, the restart policy and auto-remove.
func labels(o options) (map[string]string, error) {
	l, err := logLabels(o)
	if err != nil {
		return nil, err
	}
	p, err := api.ParseRestartPolicy(o.restart)
	if err != nil {
		return nil, fmt.Errorf("--restart: %w", err)
	}
	if l == nil && (o.rm || p.Name != api.RestartNo) {
		l = map[string]string{}
	}
	if p.Name != api.RestartNo {
		l[api.LabelRestart] = p.String()
	}
	if o.rm {
		l[api.LabelAutoRemove] = "true"
	}
	return l, nil
}

// logLabels are the container labels that ask corrald for a log of a detached container's output:
// driver json-file or cri, with its --log-opt max-size and max-file; none for driver none or a
// foreground container.
func logLabels(o options) (map[string]string, error) {
	if !o.detach || o.logDriver == "none" {
		if len(o.logOpts) > 0 && o.detach {
			return nil, fmt.Errorf("--log-opt needs a log driver, not none: %w", errdefs.ErrInvalidArgument)
		}
		return nil, nil
	}
	if o.logDriver != "json-file" && o.logDriver != "cri" {
		return nil, fmt.Errorf("--log-driver %q: accepted are json-file, cri and none: %w", o.logDriver, errdefs.ErrInvalidArgument)
	}
	labels := map[string]string{api.LabelLog: o.logDriver}
	for _, opt := range o.logOpts {
		k, v, ok := strings.Cut(opt, "=")
		switch {
		case ok && k == "max-size":
			labels[api.LabelLogMaxSize] = v
		case ok && k == "max-file":
			labels[api.LabelLogMaxFile] = v
		default:
			return nil, fmt.Errorf("--log-opt %q: accepted are max-size=SIZE and max-file=N: %w", opt, errdefs.ErrInvalidArgument)
		}
	}
	return labels, nil
}
