package integration

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/api/types"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
)

// apiID is an id unique on this machine, since other test runs may run at the same time.
func apiID(name string) string { return fmt.Sprintf("api-%d-%s", os.Getpid(), name) }

// containerdClient connects containerd's own Go client to d, in namespace default.
func (d *daemon) containerdClient(t *testing.T) (*containerd.Client, context.Context) {
	t.Helper()
	c, err := containerd.New(d.Address(), containerd.WithDefaultNamespace("default"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), "default"), 2*time.Minute)
	t.Cleanup(cancel)
	return c, ctx
}

// newContainer creates id on runtime rt through the client, removed at the end of the test.
func newContainer(t *testing.T, c *containerd.Client, ctx context.Context, id, rt string, labels map[string]string, args ...string) containerd.Container {
	t.Helper()
	ctr, err := c.NewContainer(ctx, id, containerd.WithRuntime(rt, nil), containerd.WithContainerLabels(labels),
		containerd.WithNewSpec(oci.WithRootFSPath(rootfs), oci.WithProcessArgs(args...)))
	if err != nil {
		t.Fatalf("create container %s on %s: %v", id, rt, err)
	}
	t.Cleanup(func() { _ = ctr.Delete(context.WithoutCancel(ctx)) })
	return ctr
}

// withCheckpoint asks to restore the task from a checkpoint, as containerd.WithTaskCheckpoint does.
func withCheckpoint(_ context.Context, _ *containerd.Client, ti *containerd.TaskInfo) error {
	ti.Checkpoint = &types.Descriptor{MediaType: "application/vnd.containerd.container.criu.checkpoint.criu.tar",
		Digest: "sha256:" + strings.Repeat("0", 64)}
	return nil
}

// TestContainerdClientRuntimes drives every family with containerd's Go client: it describes each
// runtime and refuses to restore a checkpoint, naming the runtime.
func TestContainerdClientRuntimes(t *testing.T) {
	d := startDaemon(t, "")
	c, ctx := d.containerdClient(t)
	if ok, err := c.IsServing(ctx); err != nil || !ok {
		t.Fatalf("IsServing = %v, %v", ok, err)
	}
	ps, err := c.IntrospectionService().Plugins(ctx, "type==io.containerd.runtime.v2")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range ps.Plugins {
		ids = append(ids, p.ID)
	}
	if want := []string{"lcr", "shim-v1", "shim-v2", "task"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("runtime plugins %v, want %v", ids, want)
	}
	for _, rt := range runtimes {
		t.Run(rt.name, func(t *testing.T) {
			info, err := c.RuntimeInfo(ctx, rt.name, nil)
			if err != nil || info.Name != rt.name || info.Annotations["family"] != rt.family {
				t.Errorf("RuntimeInfo = %+v, %v; want name %s, family %s", info, err, rt.name, rt.family)
			}
			ctr := newContainer(t, c, ctx, apiID("ckpt"), rt.name, nil, "true")
			_, err = ctr.NewTask(ctx, cio.NullIO, withCheckpoint)
			if !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), rt.name) {
				t.Fatalf("restore from a checkpoint: %v, want NotImplemented naming %s", err, rt.name)
			}
		})
	}
}

// TestContainerdClientTask: out-of-range signals and checkpoints are refused on a running task.
func TestContainerdClientTask(t *testing.T) {
	d := startDaemon(t, "")
	c, ctx := d.containerdClient(t)
	ctr := newContainer(t, c, ctx, apiID("task"), "runc", nil, "sleep", "1000")
	task, err := ctr.NewTask(ctx, cio.NullIO)
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
	if err := task.Kill(ctx, syscall.Signal(65)); !errdefs.IsInvalidArgument(err) {
		t.Errorf("kill with signal 65: %v, want InvalidArgument", err)
	}
	if _, err := task.Checkpoint(ctx); !errdefs.IsNotImplemented(err) {
		t.Errorf("checkpoint: %v, want NotImplemented", err)
	}
	if st, err := task.Status(ctx); err != nil || st.Status != containerd.Running {
		t.Errorf("after the refused checkpoint: %+v, %v; want running", st, err)
	}
	if err := task.Kill(ctx, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := <-exited; st.ExitCode() != 137 {
		t.Errorf("exit %d, want 137", st.ExitCode())
	}
	if _, err := task.Delete(ctx); err != nil {
		t.Fatal(err)
	}
}
