package integration

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestCtrFiltersAndLabels drives filters and labels with Debian's ctr.
func TestCtrFiltersAndLabels(t *testing.T) {
	d := startDaemon(t, "")
	a, b := apiID("ctr-a"), apiID("ctr-b")
	for id, label := range map[string]string{a: "k=v", b: "k=w"} {
		d.ctr("c", "create", "--rootfs", "--runtime", "runc", "--label", label, rootfs, id, "true").must(t)
		t.Cleanup(func() { d.ctr("c", "rm", id) })
	}
	ls := func(args ...string) string { return d.ctr(append([]string{"c", "ls", "-q"}, args...)...).must(t) }
	if out := ls("labels.k==v"); out != a+"\n" {
		t.Errorf("ctr c ls labels.k==v:\n%s\nwant %s", out, a)
	}
	if out := d.ctr("c", "label", a, "k2=2").must(t); !strings.Contains(out, "k2=2") || !strings.Contains(out, "k=v") {
		t.Errorf("ctr c label %s k2=2 printed %q, want k=v and k2=2", a, out)
	}
	if out := ls(`labels."k2"==2`); out != a+"\n" {
		t.Errorf("after ctr c label k2=2, ctr c ls labels.k2==2:\n%s", out)
	}
	d.ctr("c", "label", a, "k2=").must(t)
	if out := ls("labels.k2"); out != "" {
		t.Errorf("after ctr c label k2=, ctr c ls labels.k2:\n%s", out)
	}

	ns := apiID("ctr-ns")
	d.ctr("ns", "create", ns, "a=1").must(t)
	t.Cleanup(func() { d.ctr("ns", "rm", ns) })
	nsLine := func() string {
		for _, l := range strings.Split(d.ctr("ns", "ls").must(t), "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == ns {
				return l
			}
		}
		t.Fatalf("ctr ns ls does not list %s", ns)
		return ""
	}
	d.ctr("ns", "label", ns, "b=2").must(t)
	if l := nsLine(); !strings.Contains(l, "a=1") || !strings.Contains(l, "b=2") {
		t.Errorf("after ctr ns label b=2: %q, want a=1 and b=2", l)
	}
	d.ctr("ns", "label", ns, "a=").must(t)
	if l := nsLine(); strings.Contains(l, "a=1") || !strings.Contains(l, "b=2") {
		t.Errorf("after ctr ns label a=: %q, want only b=2", l)
	}

	for id, label := range map[string]string{apiID("lx"): "api=x", apiID("ly"): "api=y"} {
		d.ctr("leases", "create", "--id", id, label).must(t)
		t.Cleanup(func() { d.ctr("leases", "rm", id) })
	}
	if out := d.ctr("leases", "ls", "-q", "labels.api==x").must(t); out != apiID("lx")+"\n" {
		t.Errorf("ctr leases ls labels.api==x:\n%s\nwant %s", out, apiID("lx"))
	}
}

// TestCtrEventsFilter: ctr events with a filter on a field of the event, not its topic.
func TestCtrEventsFilter(t *testing.T) {
	d := startDaemon(t, "")
	want, other := apiID("ev"), apiID("ev-other")
	cmd := exec.Command("ctr", "--address", d.Address(), "events", "event.id=="+want)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 10)
	go func() {
		for s := bufio.NewScanner(out); s.Scan(); {
			lines <- s.Text()
		}
		close(lines)
	}()
	time.Sleep(500 * time.Millisecond) // let ctr subscribe before publishing
	for _, id := range []string{other, want} {
		d.ctr("c", "create", "--rootfs", "--runtime", "runc", rootfs, id, "true").must(t)
		d.ctr("c", "rm", id).must(t)
	}
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < 2 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("ctr events ended after %q", got)
			}
			got = append(got, l)
		case <-timeout:
			t.Fatalf("ctr events printed %q within 10s, want the creation and removal of %s", got, want)
		}
	}
	for i, topic := range []string{"/containers/create", "/containers/delete"} {
		if !strings.Contains(got[i], topic) || !strings.Contains(got[i], want) || strings.Contains(got[i], other) {
			t.Errorf("event %d: %q, want %s of %s", i, got[i], topic, want)
		}
	}
}
