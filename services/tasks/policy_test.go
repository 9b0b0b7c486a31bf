package tasks

import (
	"testing"
	"time"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/config"
	"github.com/corral-dev/corral/runtime"
)

func TestRestartWanted(t *testing.T) {
	started := time.Now()
	for _, tc := range []struct {
		name    string
		labels  map[string]string
		status  uint32
		never   bool // the task never started
		restore bool
		want    bool
	}{
		{name: "no policy", labels: map[string]string{}},
		{name: "no", labels: map[string]string{api.LabelRestart: "no"}, status: 1},
		{name: "bad policy", labels: map[string]string{api.LabelRestart: "sometimes"}, status: 1},
		{name: "always", labels: map[string]string{api.LabelRestart: "always"}, want: true},
		{name: "always, never started", labels: map[string]string{api.LabelRestart: "always"}, never: true},
		{name: "always, stopped", labels: map[string]string{api.LabelRestart: "always", api.LabelStoppedByUser: "true"}},
		{name: "always, stopped, restore", labels: map[string]string{api.LabelRestart: "always", api.LabelStoppedByUser: "true"}, restore: true, want: true},
		{name: "unless-stopped", labels: map[string]string{api.LabelRestart: "unless-stopped"}, want: true},
		{name: "unless-stopped, stopped, restore", labels: map[string]string{api.LabelRestart: "unless-stopped", api.LabelStoppedByUser: "true"}, restore: true},
		{name: "on-failure, success", labels: map[string]string{api.LabelRestart: "on-failure"}},
		{name: "on-failure, failure", labels: map[string]string{api.LabelRestart: "on-failure", api.LabelRestartCount: "99"}, status: 1, want: true},
		{name: "on-failure:3, 2 done", labels: map[string]string{api.LabelRestart: "on-failure:3", api.LabelRestartCount: "2"}, status: 1, want: true},
		{name: "on-failure:3, 3 done", labels: map[string]string{api.LabelRestart: "on-failure:3", api.LabelRestartCount: "3"}, status: 1},
		{name: "on-failure, stopped", labels: map[string]string{api.LabelRestart: "on-failure", api.LabelStoppedByUser: "true"}, status: 143},
	} {
		rec := record{State: runtime.Stopped, ExitStatus: tc.status, StartedAt: started}
		if tc.never {
			rec.StartedAt = time.Time{}
		}
		if got := restartWanted(tc.labels, rec, tc.restore); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNextDelay(t *testing.T) {
	r := config.Restart{Backoff: config.Duration{Duration: time.Second}, MaxBackoff: config.Duration{Duration: 5 * time.Second},
		ResetAfter: config.Duration{Duration: 10 * time.Second}}
	for _, tc := range []struct{ prev, ran, want time.Duration }{
		{0, 0, time.Second},
		{time.Second, time.Second, 2 * time.Second},
		{4 * time.Second, time.Second, 5 * time.Second},
		{5 * time.Second, time.Second, 5 * time.Second},
		{5 * time.Second, 10 * time.Second, time.Second},
	} {
		if got := nextDelay(tc.prev, tc.ran, r); got != tc.want {
			t.Errorf("nextDelay(%v, %v) = %v, want %v", tc.prev, tc.ran, got, tc.want)
		}
	}
}
