package shim

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	task "github.com/containerd/containerd/api/runtime/task/v2"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/log"
	"github.com/containerd/ttrpc"
	"golang.org/x/sys/unix"

	"github.com/corral-dev/corral/api/keeper"
)

// Flags are the arguments containerd's shim contract gives every shim invocation.
type Flags struct {
	Namespace, ID string
	// Address is the daemon's API socket; PublishBinary its executable.
	Address, PublishBinary string
	// Bundle is the task's bundle for delete; the working directory otherwise.
	Bundle string
	Debug  bool
}

// DefaultOptions are the options of a keeper whose Create carries none of corral's: a keeper that
// containerd runs. Installed under a name with "lcr" in it (containerd-shim-lcr-v1) it runs LXC,
// otherwise runc from $PATH.
func DefaultOptions(argv0 string) keeper.Options {
	if strings.Contains(filepath.Base(argv0), "lcr") {
		return keeper.Options{Driver: keeper.DriverLXC}
	}
	return keeper.Options{Driver: keeper.DriverRunc, Binary: "runc"}
}

// Serve is the keeper's life: it serves the task API on the listener inherited as fd 3 until its
// container is deleted and Shutdown asks it to exit.
func Serve(ctx context.Context, f Flags, defaults keeper.Options) error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("failed to become a subreaper: %w", err)
	}
	// A write to a FIFO whose reader left must never kill the keeper.
	signal.Ignore(syscall.SIGPIPE)
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		return fmt.Errorf("failed to serve on fd 3: %w", err)
	}
	ctx = log.WithLogger(ctx, log.G(ctx).WithField("id", f.ID).WithField("namespace", f.Namespace))
	s := &Service{ns: f.Namespace, id: f.ID, defaults: defaults, r: newReaper(),
		pub: newPublisher(os.Getenv("TTRPC_ADDRESS"), f.Namespace), shutdown: make(chan struct{})}
	srv, err := ttrpc.NewServer(ttrpc.WithUnaryServerInterceptor(wireErrors))
	if err != nil {
		return err
	}
	task.RegisterTTRPCTaskService(srv, s)
	go func() { _ = srv.Serve(ctx, ln) }()
	<-s.shutdown
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	s.pub.close(publishTimeout)
	if dir, err := os.Getwd(); err == nil {
		removeSocket(dir)
	}
	return nil
}

// wireErrors converts errors to ttrpc status codes, so that their errdefs class survives the wire.
func wireErrors(ctx context.Context, unmarshal ttrpc.Unmarshaler, _ *ttrpc.UnaryServerInfo, method ttrpc.Method) (interface{}, error) {
	resp, err := method(ctx, unmarshal)
	return resp, errgrpc.ToGRPC(err)
}
