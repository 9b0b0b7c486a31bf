package leases

import (
	"errors"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestValidateLeaseID(t *testing.T) {
	for id, ok := range map[string]bool{
		"286363585-cfg-":         true, // as ctr generates them
		"1234-AbC_d-":            true,
		"lease.1":                true,
		"":                       false,
		"a/b":                    false,
		"a b":                    false,
		"a\nb":                   false,
		strings.Repeat("x", 256): false,
	} {
		err := validateLeaseID(id)
		if (err == nil) != ok || (err != nil && !errors.Is(err, errdefs.ErrInvalidArgument)) {
			t.Errorf("validateLeaseID(%q) = %v", id, err)
		}
	}
}
