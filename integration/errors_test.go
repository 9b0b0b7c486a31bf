package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/corral-dev/corral/api"
)

func TestRuntimeNameErrors(t *testing.T) {
	d := startDaemon(t, "[runtimes.gone]\npath = \"/nonexistent/runc\"\n")
	for _, tc := range []struct {
		runtime string
		want    []string
	}{
		{"foo", []string{`invalid runtime name "foo"`, "lcr, runc, kata-runtime, runsc, io.containerd.<rt>.<ver>", "gone", "my-runc"}},
		{"io.containerd.runc", []string{`invalid runtime name "io.containerd.runc"`, "exactly four parts"}},
		{"gone", []string{`runtime "gone" is not available`, "/nonexistent/runc", "does not exist", "--runtime"}},
	} {
		t.Run(tc.runtime, func(t *testing.T) {
			d.t = t
			r := d.corral("run", "--rm", "--runtime", tc.runtime, "--rootfs", rootfs, "e1", "true")
			if r.code != 1 {
				t.Fatalf("exit %d, want 1; stderr %s", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not mention %q", r.stderr, w)
				}
			}
			d.assertGone(t, "e1")
		})
	}
}

func TestConfigErrors(t *testing.T) {
	args := make([]string, 51)
	for i := range args {
		args[i] = `"--debug"`
	}
	for _, tc := range []struct{ name, config, want string }{
		{"51 runtime args", "[runtimes.x]\nruntime_args = [" + strings.Join(args, ", ") + "]\n", "runtimes.x has 51 runtime_args, at most 50"},
		{"unknown key", "[runtimes.x]\nbinary = \"/usr/sbin/runc\"\n", "unknown key runtimes.x.binary"},
		{"bad default runtime", "default_runtime = \"foo\"\n", `invalid runtime name "foo"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.toml")
			body := fmt.Sprintf("root = %q\nstate = %q\n%s\n[grpc]\naddress = %q\n", filepath.Join(dir, "root"), filepath.Join(dir, "state"), tc.config, filepath.Join(dir, "sock"))
			if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(filepath.Join(bins, "corrald"), "--config", cfg).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("corrald: %v\n%s\nwant an error mentioning %q", err, out, tc.want)
			}
		})
	}
}

func TestIDs(t *testing.T) {
	d := startDaemon(t, "")
	conn := d.grpcConn()
	containers := containersapi.NewContainersClient(conn)
	tasks := tasksapi.NewTasksClient(conn)
	ctx := nsCtx("default")
	spec := &anypb.Any{TypeUrl: api.SpecTypeURL, Value: []byte(`{"ociVersion":"1.0.2","process":{"args":["true"],"cwd":"/"},"root":{"path":"` + rootfs + `"}}`)}
	create := func(id string) error {
		_, err := containers.Create(ctx, &containersapi.CreateContainerRequest{Container: &containersapi.Container{
			ID: id, Spec: spec, Runtime: &containersapi.Container_Runtime{Name: "runc"}}})
		return errgrpc.ToNative(err)
	}
	for _, id := range []string{"../x", "a/b", "", strings.Repeat("a", 200)} {
		if err := create(id); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("create %q: %v, want InvalidArgument", id, err)
		}
		_, err := tasks.Create(ctx, &tasksapi.CreateTaskRequest{ContainerID: id})
		if err := errgrpc.ToNative(err); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("create task %q: %v, want InvalidArgument", id, err)
		}
	}
	for _, dir := range []string{filepath.Join(d.Root(), "bundles"), filepath.Join(d.State())} {
		filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
			if strings.Contains(p, "..") || strings.HasSuffix(p, "/x") || strings.HasSuffix(p, "/b") || strings.Contains(p, "aaaa") {
				t.Errorf("invalid id touched disk: %s", p)
			}
			return nil
		})
	}
	if err := create("dup"); err != nil {
		t.Fatal(err)
	}
	if err := create("dup"); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate create: %v, want AlreadyExists", err)
	}
	r := d.corral("run", "--runtime", "runc", "--rootfs", rootfs, "dup", "true")
	if r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("corral run with a duplicate id: exit %d, stderr %q", r.code, r.stderr)
	}
	for name, call := range map[string]func() error{
		"container get": func() error {
			_, err := containers.Get(ctx, &containersapi.GetContainerRequest{ID: "nope"})
			return err
		},
		"container delete": func() error {
			_, err := containers.Delete(ctx, &containersapi.DeleteContainerRequest{ID: "nope"})
			return err
		},
		"task create": func() error {
			_, err := tasks.Create(ctx, &tasksapi.CreateTaskRequest{ContainerID: "nope"})
			return err
		},
		"task start": func() error {
			_, err := tasks.Start(ctx, &tasksapi.StartRequest{ContainerID: "nope"})
			return err
		},
		"task kill": func() error {
			_, err := tasks.Kill(ctx, &tasksapi.KillRequest{ContainerID: "nope", Signal: 9})
			return err
		},
	} {
		if err := errgrpc.ToNative(call()); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("%s of an unknown id: %v, want NotFound", name, err)
		}
	}
	for _, args := range [][]string{{"containers", "info", "nope"}, {"tasks", "kill", "nope"}, {"containers", "rm", "nope"}} {
		if r := d.corral(args...); r.code != 1 || !strings.Contains(r.stderr, "not found") {
			t.Errorf("corral %v: exit %d stderr %q, want exit 1 and not found", args, r.code, r.stderr)
		}
	}
}
