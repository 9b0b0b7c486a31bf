package integration

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestErrorClassesAcrossKeeper: a keeper's refusal reaches the client with its errdefs class, not as
// Unknown.
func TestErrorClassesAcrossKeeper(t *testing.T) {
	d := startDaemon(t, "")
	for _, rt := range []string{"lcr", "runc", "runsc"} {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			ctx, cancel := context.WithTimeout(nsCtx("default"), time.Minute)
			defer cancel()
			tasks := tasksapi.NewTasksClient(d.grpcConn())
			if err := d.createSpecOn(t, "cls1", rt, lcrSpec("sleep 100", t.TempDir()), "", "", ""); err != nil {
				t.Fatal(err)
			}
			proc, _ := json.Marshal(&specs.Process{Args: []string{"true"}, Cwd: "/"})
			for _, tc := range []struct {
				name  string
				call  func() error
				class func(error) bool
			}{
				{"pause a created task", func() error {
					_, err := tasks.Pause(ctx, &tasksapi.PauseTaskRequest{ContainerID: "cls1"})
					return err
				}, errdefs.IsFailedPrecondition},
				{"kill with signal 9999", func() error {
					_, err := tasks.Kill(ctx, &tasksapi.KillRequest{ContainerID: "cls1", Signal: 9999})
					return err
				}, errdefs.IsInvalidArgument},
				{"start", func() error { _, err := tasks.Start(ctx, &tasksapi.StartRequest{ContainerID: "cls1"}); return err }, func(err error) bool { return err == nil }},
				{"resize a process with no terminal", func() error {
					_, err := tasks.ResizePty(ctx, &tasksapi.ResizePtyRequest{ContainerID: "cls1", Width: 80, Height: 24})
					return err
				}, errdefs.IsFailedPrecondition},
				{"exec with a relative cwd", func() error {
					p, _ := json.Marshal(&specs.Process{Args: []string{"true"}, Cwd: "tmp"})
					_, err := tasks.Exec(ctx, &tasksapi.ExecProcessRequest{ContainerID: "cls1", ExecID: "e1", Spec: &anypb.Any{Value: p}})
					if err == nil {
						_, err = tasks.Start(ctx, &tasksapi.StartRequest{ContainerID: "cls1", ExecID: "e1"})
					}
					return err
				}, func(err error) bool { return rt != "lcr" || errdefs.IsInvalidArgument(err) }}, // the lxc driver's check; runc and runsc decide for themselves
				{"kill", func() error {
					_, err := tasks.Kill(ctx, &tasksapi.KillRequest{ContainerID: "cls1", Signal: 9})
					return err
				}, func(err error) bool { return err == nil }},
				{"exec into a stopped task", func() error {
					d.wait(t, "cls1")
					_, err := tasks.Exec(ctx, &tasksapi.ExecProcessRequest{ContainerID: "cls1", ExecID: "e2", Spec: &anypb.Any{Value: proc}})
					return err
				}, func(err error) bool { return errdefs.IsFailedPrecondition(err) || errdefs.IsNotFound(err) }},
			} {
				if err := errgrpc.ToNative(tc.call()); !tc.class(err) {
					t.Errorf("%s: %v (class %T)", tc.name, err, err)
				}
			}
			d.corral("containers", "rm", "cls1").must(t)
			d.assertGone(t, "cls1")
		})
	}
}
