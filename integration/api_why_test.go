package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/cgroups/v3/cgroup1/stats"
	apievents "github.com/containerd/containerd/api/events"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// lockedBuffer is a bytes.Buffer that stdout and stderr may write to at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startTask creates and starts a task of ctr with io, and returns it with its exit channel.
func startTask(t *testing.T, ctx context.Context, ctr containerd.Container, io cio.Creator) (containerd.Task, <-chan containerd.ExitStatus) {
	t.Helper()
	task, err := ctr.NewTask(ctx, io)
	if err != nil {
		t.Fatal(err)
	}
	exited, err := task.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return task, exited
}

// TestContainerdClientWhy drives, on every family, the task items of issue 11's Why with
// containerd's Go client: a task never started, Metrics, an exec without env, Update, the
// /tasks/exit event and stdio through cio.
func TestContainerdClientWhy(t *testing.T) {
	d := startDaemon(t, "[timeouts]\nio_drain = \"30s\"\n")
	for _, rt := range runtimes {
		t.Run(rt.name, func(t *testing.T) {
			c, ctx := d.containerdClient(t)
			id := func(name string) string { return fmt.Sprintf("why-%d-%s-%s", os.Getpid(), short(rt.name), name) }

			// A task that was never started: SIGKILL ends it with 137 promptly, and it can be removed.
			// Subscribed before the created task exits: only the running task's exit may arrive.
			evs, errs := c.Subscribe(ctx, `topic=="/tasks/exit",event.container_id==`+strconv.Quote(id("up")))
			time.Sleep(100 * time.Millisecond) // the subscription registers
			ctr := newContainer(t, c, ctx, id("created"), rt.name, nil, "sleep", "1000")
			task, err := ctr.NewTask(ctx, cio.NullIO)
			if err != nil {
				t.Fatal(err)
			}
			exited, err := task.Wait(ctx)
			if err != nil {
				t.Fatal(err)
			}
			begin := time.Now()
			if err := task.Kill(ctx, syscall.SIGKILL); err != nil && !errdefs.IsNotFound(err) {
				t.Errorf("kill of a created task: %v", err)
			}
			select {
			case st := <-exited:
				if st.ExitCode() != 137 || time.Since(begin) > 10*time.Second {
					t.Errorf("created task exited %d after %v, want 137 within 10s", st.ExitCode(), time.Since(begin))
				}
			case <-time.After(10 * time.Second):
				t.Fatal("created task: no exit within 10s")
			}
			if _, err := task.Delete(ctx); err != nil {
				t.Errorf("delete of the killed created task: %v", err)
			}
			if err := ctr.Delete(ctx); err != nil {
				t.Errorf("delete of its container: %v", err)
			}

			// A running task: Metrics, an exec without env, Update, then its /tasks/exit event.
			ctr = newContainer(t, c, ctx, id("up"), rt.name, nil, "sleep", "1000")
			task, exited = startTask(t, ctx, ctr, cio.NullIO)
			for i := range 20 {
				m, err := task.Metrics(ctx)
				if err != nil {
					t.Fatalf("metrics %d: %v", i, err)
				}
				if v, err := typeurl.UnmarshalAny(m.Data); err != nil {
					t.Fatalf("metrics %d: %v", i, err)
				} else if _, ok := v.(*stats.Metrics); !ok {
					t.Fatalf("metrics %d: %T, want cgroup v1 metrics", i, v)
				}
			}
			spec, err := ctr.Spec(ctx) // as ctr does: the init's process, here with no env at all
			if err != nil {
				t.Fatal(err)
			}
			pspec := *spec.Process
			pspec.Args, pspec.Env = []string{"sh", "-c", "exit 4"}, nil
			p, err := task.Exec(ctx, "e1", &pspec, cio.NullIO)
			if err != nil {
				t.Fatal(err)
			}
			pexit, err := p.Wait(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Start(ctx); err != nil {
				t.Fatalf("exec without env: %v", err)
			}
			if st := <-pexit; st.ExitCode() != 4 {
				t.Errorf("exec without env exited %d, want 4", st.ExitCode())
			}
			if _, err := p.Delete(ctx); err != nil {
				t.Error(err)
			}
			limit := int64(64 << 20)
			err = task.Update(ctx, containerd.WithResources(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}))
			if rt.name == "runsc" {
				if !(errdefs.IsNotImplemented(err) || errdefs.IsFailedPrecondition(err)) ||
					!strings.Contains(err.Error(), "runsc") || strings.Contains(err.Error(), "Usage") {
					t.Errorf("update on runsc: %v, want NotImplemented or FailedPrecondition naming runsc", err)
				}
			} else if err != nil {
				t.Errorf("update of the memory limit: %v", err)
			}
			if err := task.Kill(ctx, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if st := <-exited; st.ExitCode() != 137 {
				t.Errorf("exit %d, want 137", st.ExitCode())
			}
			select {
			case env := <-evs:
				v, err := typeurl.UnmarshalAny(env.Event)
				if e, ok := v.(*apievents.TaskExit); err != nil || !ok || e.ContainerID != ctr.ID() || e.Pid == 0 {
					t.Errorf("exit event %s %#v, %v; want %s's with a pid", env.Topic, v, err, ctr.ID())
				}
			case err := <-errs:
				t.Fatal(err)
			case <-time.After(10 * time.Second):
				t.Error("no /tasks/exit event")
			}
			if _, err := task.Delete(ctx); err != nil {
				t.Error(err)
			}

			// Stdio through the client's cio.
			var buf lockedBuffer
			ctr = newContainer(t, c, ctx, id("cio"), rt.name, nil, "sh", "-c", "echo out; echo err >&2; exit 3")
			task, exited = startTask(t, ctx, ctr, cio.NewCreator(cio.WithStreams(nil, &buf, &buf)))
			if st := <-exited; st.ExitCode() != 3 {
				t.Errorf("cio task exited %d, want 3", st.ExitCode())
			}
			if _, err := task.Delete(ctx); err != nil {
				t.Error(err)
			}
			if out := buf.String(); !strings.Contains(out, "out\n") || !strings.Contains(out, "err\n") {
				t.Errorf("cio output %q, want out and err", out)
			}
		})
	}
}
