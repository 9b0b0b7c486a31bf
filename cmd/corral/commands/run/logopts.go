package run

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/api"
)

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
