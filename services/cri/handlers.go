package cri

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
)

// runtime returns the runtime name a RuntimeClass handler maps to, or an error naming the handler and
// the known ones.
func (s *Service) runtime(handler string) (string, error) {
	if rt, ok := s.runtimes[handler]; ok {
		return rt, nil
	}
	return "", fmt.Errorf("unknown runtime handler %q: configured are %s ([cri.runtimes.HANDLER] in corrald's config): %w",
		handler, strings.Join(s.handlers(), ", "), errdefs.ErrNotFound)
}

// handlers lists the known handlers, the empty one shown as "" (default_runtime).
func (s *Service) handlers() []string {
	hs := []string{`"" (default_runtime)`}
	return append(hs, s.cfg.Handlers()...)
}
