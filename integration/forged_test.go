package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/containerd/api/events"
	eventsttrpc "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// eventsSocket is where the shim of task ns/id publishes its events.
func (d *daemon) eventsSocket(ns, id string) string {
	h := sha256.Sum256([]byte(ns + "/" + id))
	return filepath.Join(d.State(), "e", hex.EncodeToString(h[:12])+".sock")
}

// forger sends events on a shim's events socket.
func forger(t *testing.T, socket string) eventsttrpc.TTRPCEventsService {
	t.Helper()
	conn, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	c := ttrpc.NewClient(conn)
	t.Cleanup(func() { c.Close() })
	return eventsttrpc.NewTTRPCEventsClient(c)
}

func forgedExit(ns, id string, n int) *eventsttrpc.ForwardRequest {
	b, _ := proto.Marshal(&events.TaskExit{ContainerID: id, ID: id, Pid: uint32(90000 + n), ExitStatus: 99, ExitedAt: timestamppb.Now()})
	return &eventsttrpc.ForwardRequest{Envelope: &types.Envelope{Timestamp: timestamppb.Now(), Namespace: ns, Topic: "/tasks/exit",
		Event: &anypb.Any{TypeUrl: "containerd.events.TaskExit", Value: b}}}
}

// TestForgedEvents: exits published on a shim's events socket, for its own task or another
// namespace's, change nothing; a million of them leave corrald's memory where it was.
func TestForgedEvents(t *testing.T) {
	d := startDaemon(t, "")
	ctx := context.Background()
	for _, c := range []struct{ ns, id, rt string }{{"default", "fe1", "io.containerd.runc.v2"}, {"other", "fe2", "runc"}} {
		d.corral("--namespace", c.ns, "run", "-d", "--runtime", c.rt, "--rootfs", rootfs, c.id, "sleep", "1000").must(t)
	}
	f := forger(t, d.eventsSocket("default", "fe1"))
	for _, req := range []*eventsttrpc.ForwardRequest{forgedExit("default", "fe1", 0), forgedExit("other", "fe2", 0)} {
		if _, err := f.Forward(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	d.taskPid(t, "fe1", "RUNNING")
	if out := d.corral("--namespace", "other", "tasks", "ls").must(t); !strings.Contains(out, "RUNNING") {
		t.Errorf("a forged exit from another task's shim stopped fe2:\n%s", out)
	}

	before := d.rss(t)
	const total, senders = 1_000_000, 8
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			f := forger(t, d.eventsSocket("default", "fe1"))
			for n := s; n < total; n += senders {
				if _, err := f.Forward(ctx, forgedExit("ns"+strconv.Itoa(n%1000), "forged"+strconv.Itoa(n), n)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if after := d.rss(t); after > before+5<<20 {
		t.Errorf("corrald's RSS grew from %d to %d KiB over %d forged events", before>>10, after>>10, total)
	}
	d.corral("tasks", "kill", "-s", "KILL", "fe1").must(t)
	if got := d.wait(t, "fe1"); got != 137 {
		t.Errorf("fe1 exited %d after SIGKILL, want 137", got)
	}
	d.corral("containers", "rm", "fe1").must(t)
	d.corral("--namespace", "other", "rm", "-f", "fe2").must(t)
	d.assertGone(t, "fe1")
}

// rss is corrald's resident set size in bytes.
func (d *daemon) rss(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
