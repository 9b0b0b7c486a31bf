package run

import (
	"errors"
	"reflect"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/api"
)

func TestLabels(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    options
		want map[string]string
		err  bool
	}{
		{"none", options{logDriver: "json-file"}, nil, false},
		{"restart no", options{logDriver: "json-file", restart: "no"}, nil, false},
		{"rm", options{logDriver: "json-file", rm: true}, map[string]string{api.LabelAutoRemove: "true"}, false},
		{"detached rm", options{detach: true, logDriver: "none", rm: true}, map[string]string{api.LabelAutoRemove: "true"}, false},
		{"restart", options{detach: true, logDriver: "json-file", restart: "on-failure:2"},
			map[string]string{api.LabelLog: "json-file", api.LabelRestart: "on-failure:2"}, false},
		{"bad restart", options{detach: true, logDriver: "json-file", restart: "on-failure:0"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := labels(tc.o)
			if tc.err {
				if !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("labels = %v, %v; want InvalidArgument", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("labels = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestLogLabels(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    options
		want map[string]string
		err  bool
	}{
		{"foreground keeps no log", options{logDriver: "json-file"}, nil, false},
		{"detached default", options{detach: true, logDriver: "json-file"}, map[string]string{api.LabelLog: "json-file"}, false},
		{"cri with rotation", options{detach: true, logDriver: "cri", logOpts: []string{"max-size=1k", "max-file=2"}},
			map[string]string{api.LabelLog: "cri", api.LabelLogMaxSize: "1k", api.LabelLogMaxFile: "2"}, false},
		{"none", options{detach: true, logDriver: "none"}, nil, false},
		{"none with options", options{detach: true, logDriver: "none", logOpts: []string{"max-size=1k"}}, nil, true},
		{"unknown driver", options{detach: true, logDriver: "syslog"}, nil, true},
		{"unknown option", options{detach: true, logDriver: "json-file", logOpts: []string{"compress=true"}}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := logLabels(tc.o)
			if tc.err {
				if !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("logLabels = %v, %v; want InvalidArgument", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("logLabels = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
