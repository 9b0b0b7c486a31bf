package shim_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/corral-dev/corral/shim"
)

func TestClientPaths(t *testing.T) {
	state := t.TempDir()
	long := strings.Repeat("x", 100)
	a, b := shim.NewClient(state, "default", long, time.Second), shim.NewClient(state, "other", long, time.Second)
	if a.Dir != filepath.Join(state, "default", long) {
		t.Errorf("work dir %s", a.Dir)
	}
	if filepath.Dir(a.Socket) != filepath.Join(state, "s") || len(filepath.Base(a.Socket)) != 29 || a.Socket == b.Socket {
		t.Errorf("sockets %s and %s: want distinct <state>/s/<24 hex>.sock", a.Socket, b.Socket)
	}
	if err := a.MakeWorkDir(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Dir(a.Socket)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket dir: %v, %v", fi, err)
	}
	if err := a.MakeWorkDir(); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("second MakeWorkDir: %v, want AlreadyExists", err)
	}
	if err := os.WriteFile(a.Socket, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Remove(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{a.Dir, a.Socket} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", p, err)
		}
	}
}

func TestClientFinishedKeeper(t *testing.T) {
	c := shim.NewClient(t.TempDir(), "default", "c1", time.Second)
	if err := c.MakeWorkDir(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// No keeper and no exit: the calls fail.
	if err := c.CloseStdin(ctx, ""); err == nil {
		t.Error("CloseStdin without a keeper nor an exit succeeded")
	}
	if err := shim.WriteExit(c.Dir, shim.Exit{Pid: 1, Status: 3}); err != nil {
		t.Fatal(err)
	}
	// Once the keeper has finished, nothing is left to close or delete.
	if err := c.CloseStdin(ctx, ""); err != nil || !c.Finished() {
		t.Errorf("CloseStdin after the exit: %v", err)
	}
	if err := c.DeleteExec(ctx, "e1"); err != nil {
		t.Errorf("DeleteExec after the exit: %v", err)
	}
	if e, err := c.Wait(ctx, ""); err != nil || e.Status != 3 {
		t.Errorf("Wait = %+v, %v", e, err)
	}
}

func TestExecs(t *testing.T) {
	var execs shim.Execs
	c1, c2 := shim.NewClient("/s", "default", "c1", time.Second), shim.NewClient("/s", "default", "c2", time.Second)
	req := shim.Request{Op: shim.OpExec, ExecID: "e1"}
	if err := execs.Add(c1, req); err != nil {
		t.Fatal(err)
	}
	if err := execs.Add(c1, req); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate Add: %v", err)
	}
	if err := execs.Add(c2, req); err != nil {
		t.Errorf("the same exec id in another task: %v", err)
	}
	if got, ok := execs.Take(c1, "e1"); !ok || got.ExecID != "e1" {
		t.Errorf("Take = %+v, %v", got, ok)
	}
	if _, ok := execs.Take(c1, "e1"); ok {
		t.Error("taken twice")
	}
	if _, err := execs.Start(context.Background(), c1, "e1"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Start of an unknown exec: %v", err)
	}
	if err := execs.Delete(context.Background(), c2, "e1"); err != nil {
		t.Errorf("Delete of a created exec: %v", err)
	}
}
