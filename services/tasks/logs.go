package tasks

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/api/keeper"
)

// Dirs are where the tasks service keeps files: bundles/<ns>/<id> and logs/<ns>/<id>.
type Dirs struct {
	Bundles, Logs string
}

// logFile returns the log the task of container c asks for with its api.LabelLog labels, over the
// config's defaults; nil if it asks for none.
func (s *Service) logFile(ns string, c *containersapi.Container) (*keeper.LogFile, error) {
	format := c.Labels[api.LabelLog]
	if format == "" {
		return nil, nil
	}
	l := keeper.LogFile{Path: filepath.Join(s.dirs.Logs, ns, c.ID, c.ID+".log"), Log: s.log}
	if p := c.Labels[api.LabelLogFile]; p != "" {
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("label %s: %q is not an absolute path: %w", api.LabelLogFile, p, errdefs.ErrInvalidArgument)
		}
		l.Path = filepath.Clean(p)
	}
	l.Format = format
	var err error
	if v := c.Labels[api.LabelLogMaxSize]; v != "" {
		if l.MaxSize, err = keeper.ParseSize(v); err != nil {
			return nil, fmt.Errorf("label %s: %w", api.LabelLogMaxSize, err)
		}
	}
	if v := c.Labels[api.LabelLogMaxFile]; v != "" {
		if l.MaxFile, err = strconv.Atoi(v); err != nil {
			return nil, fmt.Errorf("label %s: %q is not a number: %w", api.LabelLogMaxFile, v, errdefs.ErrInvalidArgument)
		}
	}
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("container log: %w", err)
	}
	return &l, nil
}

// recordLog records the path and format of the log l in the labels of container c once its task is
// created, if the family keeps it (the log file exists then), and removes them if not.
func (s *Service) recordLog(ns string, c *containersapi.Container, l *keeper.LogFile) error {
	path, format := "", ""
	if l != nil {
		if _, err := os.Stat(l.Path); err == nil {
			path, format = l.Path, l.Format
		}
	}
	return s.editLabels(ns, c.ID, func(labels map[string]string) bool {
		if labels[api.LabelLogPath] == path && labels[api.LabelLogFormat] == format {
			return false
		}
		for k, v := range map[string]string{api.LabelLogPath: path, api.LabelLogFormat: format} {
			if v == "" {
				delete(labels, k)
			} else {
				labels[k] = v
			}
		}
		return true
	})
}

// removeLogs removes the log files of container ns/id.
func (s *Service) removeLogs(ns, id string) error {
	if err := os.RemoveAll(filepath.Join(s.dirs.Logs, ns, id)); err != nil {
		return fmt.Errorf("failed to remove the logs of container %s: %w", id, err)
	}
	return nil
}
