package tasks

import (
	"errors"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func TestResources(t *testing.T) {
	for _, tc := range []struct {
		memory           string
		cpus             float64
		wantLimit        int64 // 0: no memory limit
		wantQuota        int64 // 0: no CPU quota
		wantInvalidInput bool
	}{
		{memory: "64m", wantLimit: 64 << 20},
		{memory: "1g", cpus: 1.5, wantLimit: 1 << 30, wantQuota: 150000},
		{cpus: 0.5, wantQuota: 50000},
		{cpus: 0.01, wantQuota: 1000},
		{wantInvalidInput: true},
		{memory: "lots", wantInvalidInput: true},
		{memory: "0", wantInvalidInput: true},
		{cpus: -1, wantInvalidInput: true},
		{cpus: 0.001, wantInvalidInput: true},
	} {
		res, err := resources(tc.memory, tc.cpus)
		if tc.wantInvalidInput {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("resources(%q, %v) = %v, want InvalidArgument", tc.memory, tc.cpus, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("resources(%q, %v): %v", tc.memory, tc.cpus, err)
		}
		var limit, quota int64
		if res.Memory != nil {
			limit = *res.Memory.Limit
		}
		if res.CPU != nil {
			quota = *res.CPU.Quota
			if *res.CPU.Period != commands.CPUPeriod {
				t.Errorf("period %d, want %d", *res.CPU.Period, commands.CPUPeriod)
			}
		}
		if limit != tc.wantLimit || quota != tc.wantQuota {
			t.Errorf("resources(%q, %v): limit %d quota %d, want %d %d", tc.memory, tc.cpus, limit, quota, tc.wantLimit, tc.wantQuota)
		}
	}
}
