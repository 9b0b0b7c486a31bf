package lcr

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func (w *cgroupWriter) blockIO(r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	const f = "linux.resources.blockIO."
	if b.Weight != nil && (*b.Weight < 10 || *b.Weight > 1000) {
		return invalid(f+"weight", fmt.Sprintf("%d is outside 10…1000", *b.Weight))
	}
	if b.LeafWeight != nil {
		if err := w.v1only(f + "leafWeight"); err != nil {
			return err
		}
	}
	for i, d := range b.WeightDevice {
		field := fmt.Sprintf("%sweightDevice[%d]", f, i)
		if d.LeafWeight != nil {
			if err := w.v1only(field + ".leafWeight"); err != nil {
				return err
			}
		}
		if d.Weight != nil && (*d.Weight < 10 || *d.Weight > 1000) {
			return invalid(field+".weight", fmt.Sprintf("%d is outside 10…1000", *d.Weight))
		}
	}
	if w.v2 {
		if b.Weight != nil {
			w.set("io.weight", "default "+strconv.Itoa(ioWeight(*b.Weight)))
		}
		for _, d := range b.WeightDevice {
			if d.Weight != nil {
				w.set("io.weight", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, ioWeight(*d.Weight)))
			}
		}
		for _, t := range []struct {
			key  string
			devs []specs.LinuxThrottleDevice
		}{{"rbps", b.ThrottleReadBpsDevice}, {"wbps", b.ThrottleWriteBpsDevice}, {"riops", b.ThrottleReadIOPSDevice}, {"wiops", b.ThrottleWriteIOPSDevice}} {
			for _, d := range t.devs {
				w.set("io.max", fmt.Sprintf("%d:%d %s=%d", d.Major, d.Minor, t.key, d.Rate))
			}
		}
		return nil
	}
	setUint16(w, "blkio.weight", b.Weight)
	setUint16(w, "blkio.leaf_weight", b.LeafWeight)
	for _, d := range b.WeightDevice {
		if d.Weight != nil {
			w.set("blkio.weight_device", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.Weight))
		}
		if d.LeafWeight != nil {
			w.set("blkio.leaf_weight_device", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.LeafWeight))
		}
	}
	for _, t := range []struct {
		file string
		devs []specs.LinuxThrottleDevice
	}{{"read_bps_device", b.ThrottleReadBpsDevice}, {"write_bps_device", b.ThrottleWriteBpsDevice},
		{"read_iops_device", b.ThrottleReadIOPSDevice}, {"write_iops_device", b.ThrottleWriteIOPSDevice}} {
		for _, d := range t.devs {
			w.set("blkio.throttle."+t.file, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate))
		}
	}
	return nil
}

// ioWeight converts a blkio weight (10…1000) to cgroup v2's io.weight (1…10000), as runc does.
func ioWeight(w uint16) int { return 1 + (int(w)-10)*9999/990 }

func (w *cgroupWriter) hugepages(r *specs.LinuxResources) error {
	for i, h := range r.HugepageLimits {
		if h.Pagesize == "" || strings.Trim(h.Pagesize, "0123456789KMGBkmgb") != "" {
			return invalid(fmt.Sprintf("linux.resources.hugepageLimits[%d].pageSize", i), fmt.Sprintf("%q must be a size such as 2MB", h.Pagesize))
		}
		file := "hugetlb." + h.Pagesize + ".limit_in_bytes"
		if w.v2 {
			file = "hugetlb." + h.Pagesize + ".max"
		}
		w.set(file, strconv.FormatUint(h.Limit, 10))
	}
	return nil
}

func (w *cgroupWriter) network(r *specs.LinuxResources) error {
	n := r.Network
	if n == nil || n.ClassID == nil && len(n.Priorities) == 0 {
		return nil
	}
	if err := w.v1only("linux.resources.network"); err != nil {
		return err
	}
	if n.ClassID != nil {
		w.set("net_cls.classid", strconv.FormatUint(uint64(*n.ClassID), 10))
	}
	for i, p := range n.Priorities {
		if p.Name == "" || strings.ContainsAny(p.Name, " /") {
			return invalid(fmt.Sprintf("linux.resources.network.priorities[%d].name", i), fmt.Sprintf("%q is not an interface name", p.Name))
		}
		if err := checkValue(fmt.Sprintf("linux.resources.network.priorities[%d].name", i), p.Name); err != nil {
			return err
		}
		w.set("net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Name, p.Priority))
	}
	return nil
}

func (w *cgroupWriter) unified(r *specs.LinuxResources) error {
	if len(r.Unified) == 0 {
		return nil
	}
	if !w.v2 {
		return unsupported("linux.resources.unified", "this host's controllers are on cgroup v1")
	}
	files := make([]string, 0, len(r.Unified))
	for k := range r.Unified {
		files = append(files, k)
	}
	sort.Strings(files)
	for _, k := range files {
		field := "linux.resources.unified[" + k + "]"
		if !validKeyPart(k) || !strings.Contains(k, ".") {
			return invalid(field, "is not a cgroup file name such as memory.high")
		}
		if err := checkValue(field, r.Unified[k]); err != nil {
			return err
		}
		w.set(k, r.Unified[k])
	}
	return nil
}
