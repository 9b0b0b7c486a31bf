package cri

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNetStats(t *testing.T) {
	dev := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    2048      20    3    0    0     0          0         0     4096      40    5    0    0     0       0          0
  eth1:       7       1    0    0    0     0          0         0        9       1    0    0    0     0       0          0
`
	path := filepath.Join(t.TempDir(), "dev")
	if err := os.WriteFile(path, []byte(dev), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := netStats(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want uint64
	}{
		{"interfaces", uint64(len(st.Interfaces)), 2},
		{"rx bytes", st.DefaultInterface.GetRxBytes().GetValue(), 2048},
		{"rx errors", st.DefaultInterface.GetRxErrors().GetValue(), 3},
		{"tx bytes", st.DefaultInterface.GetTxBytes().GetValue(), 4096},
		{"tx errors", st.DefaultInterface.GetTxErrors().GetValue(), 5},
		{"second tx bytes", st.Interfaces[1].GetTxBytes().GetValue(), 9},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	if st.DefaultInterface.GetName() != "eth0" {
		t.Errorf("default interface %q, want eth0", st.DefaultInterface.GetName())
	}
	if _, err := netStats(filepath.Join(t.TempDir(), "none"), 1); err == nil {
		t.Error("a missing file gave no error")
	}
}
