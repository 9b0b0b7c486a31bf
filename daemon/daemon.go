// Package daemon wires corrald together: config, store, runtime families in detect order, services,
// the gRPC listener, restore at start and shutdown.
package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	eventsapi "github.com/containerd/containerd/api/services/events/v1"
	introspectionapi "github.com/containerd/containerd/api/services/introspection/v1"
	leasesapi "github.com/containerd/containerd/api/services/leases/v1"
	namespacesapi "github.com/containerd/containerd/api/services/namespaces/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	versionapi "github.com/containerd/containerd/api/services/version/v1"
	"github.com/containerd/containerd/v2/core/metadata"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/corral-dev/corral/api"
	"github.com/corral-dev/corral/config"
	lxc "github.com/corral-dev/corral/engine/lcr"
	"github.com/corral-dev/corral/runtime"
	"github.com/corral-dev/corral/runtime/lcr"
	v1 "github.com/corral-dev/corral/runtime/v1"
	v2 "github.com/corral-dev/corral/runtime/v2"
	"github.com/corral-dev/corral/services/containers"
	"github.com/corral-dev/corral/services/cri"
	"github.com/corral-dev/corral/services/events"
	"github.com/corral-dev/corral/services/images"
	"github.com/corral-dev/corral/services/introspection"
	"github.com/corral-dev/corral/services/leases"
	"github.com/corral-dev/corral/services/namespaces"
	rtservice "github.com/corral-dev/corral/services/runtime"
	"github.com/corral-dev/corral/services/store"
	"github.com/corral-dev/corral/services/tasks"
	"github.com/corral-dev/corral/services/version"
)

// Daemon is a running corrald.
type Daemon struct {
	cfg    *config.Config
	lock   *os.File
	store  *store.Store
	grpc   *grpc.Server
	drain  *drain
	images *images.Store
	cri    *cri.Service
}

// New prepares corrald from cfg: directories, metadata, runtime families, services, and restores the
// tasks recorded by a previous run.
func New(ctx context.Context, cfg *config.Config) (_ *Daemon, retErr error) {
	lock, err := lockSocket(cfg.GRPC.Address)
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			lock.Close()
		}
	}()
	for _, dir := range []string{cfg.Root, cfg.State} {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return nil, fmt.Errorf("failed to create %s: %w", dir, err)
		}
	}
	st, err := store.Open(filepath.Join(cfg.Root, "meta.db"))
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			st.Close()
		}
	}()
	img, err := images.Open(ctx, filepath.Join(cfg.Root, "images"))
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			img.Close()
		}
	}()
	ex := events.NewExchange()
	shimBin, shimErr := findShim(cfg.ShimPath)
	if shimErr != nil {
		log.G(ctx).WithError(shimErr).Info("shim v1 and lcr families unavailable")
	}
	shimv2 := v2.New(v2.Opts{
		GRPCAddress:    cfg.GRPC.Address,
		EventsDir:      filepath.Join(cfg.State, "e"),
		Self:           self(),
		SocketDir:      filepath.Join(cfg.State, "s"),
		Logger:         shimBin,
		CreateTimeout:  cfg.Timeouts.RuntimeCreate.Duration,
		CallTimeout:    cfg.Timeouts.RuntimeCall.Duration,
		ConnectTimeout: cfg.Timeouts.ShimConnect.Duration,
		CleanupTimeout: cfg.Timeouts.ShimCleanup.Duration,
		Publish:        ex.Forward,
	})
	registry := families(ctx, cfg, shimv2, shimBin, shimErr)
	resolver := rtservice.NewResolver(cfg, registry)
	if _, err := resolver.Resolve(""); err != nil {
		return nil, fmt.Errorf("invalid default_runtime: %w", err)
	}
	bundles := filepath.Join(cfg.Root, "bundles")
	ts := tasks.New(st, resolver, ex, tasks.Dirs{Bundles: bundles, Logs: filepath.Join(cfg.Root, "logs")},
		cfg.Log, cfg.Timeouts.RuntimeCall.Duration)
	cs := &containers.Service{Store: st, Resolver: resolver, Events: ex, BeforeDelete: ts.DeleteStopped, Mirror: images.NewContainers(img)}
	ts.Supervision = tasks.Supervision{Restart: cfg.Restart, AutoRemove: cfg.Timeouts.AutoRemove.Duration, RemoveContainer: cs.Remove}
	if err := ts.Restore(ctx); err != nil {
		return nil, fmt.Errorf("failed to restore tasks: %w", err)
	}
	criService, err := cri.New(cri.Opts{Config: cfg, Resolve: resolver.Resolve, Features: resolver.Features, Bundles: bundles, Snapshotter: img.Default, SnapshotRoot: img.Roots()[img.Default]})
	if err != nil {
		return nil, err
	}
	uuid := make([]byte, 16)
	_, _ = rand.Read(uuid)

	dr := newDrain()
	srv := grpc.NewServer(grpc.UnaryInterceptor(dr.unary), grpc.StreamInterceptor(dr.stream))
	containersapi.RegisterContainersServer(srv, cs)
	tasksapi.RegisterTasksServer(srv, ts)
	eventsapi.RegisterEventsServer(srv, &events.Service{Exchange: ex})
	leasesapi.RegisterLeasesServer(srv, &leases.Service{Store: st, Mirror: metadata.NewLeaseManager(img.DB), Collect: img.Collect})
	serveImages(srv, img)
	namespacesapi.RegisterNamespacesServer(srv, &namespaces.Service{Store: st})
	versionapi.RegisterVersionServer(srv, version.Service{})
	introspectionapi.RegisterIntrospectionServer(srv, &introspection.Service{Resolver: resolver, Families: registry.Families(),
		Services: srv.GetServiceInfo, UUID: hex.EncodeToString(uuid), Snapshotters: img.Roots(),
		SnapshotterCapabilities: img.Capabilities, Paths: map[string]string{
			api.ExportConfig: cfg.Path, api.ExportRoot: cfg.Root, api.ExportState: cfg.State, api.ExportAddress: cfg.GRPC.Address,
		}})
	criService.Register(srv)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	return &Daemon{cfg: cfg, lock: lock, store: st, grpc: srv, drain: dr, images: img, cri: criService}, nil
}

// families builds the registry in the seed's detect order: lcr, shim v2, shim v1, all three on the
// one shim client.
func families(ctx context.Context, cfg *config.Config, shims *v2.Runtime, shimBin string, shimErr error) *runtime.Registry {
	lxcHost, lxcEngine := lxc.Load(ctx)
	lcrErr := lxcEngine.Unavailable
	if lcrErr != nil {
		log.G(ctx).WithError(lcrErr).Info("lcr family unavailable")
	} else {
		log.G(ctx).WithField("version", lxcEngine.Version).Info("lcr engine loaded")
		lcrErr = shimErr // the keeper of an lcr container is corral-shim too
	}
	keeper := v1.Opts{
		ShimBinary:    shimBin,
		CreateTimeout: cfg.Timeouts.RuntimeCreate.Duration,
		CallTimeout:   cfg.Timeouts.RuntimeCall.Duration,
		IODrain:       cfg.Timeouts.IODrain.Duration,
	}
	return runtime.NewRegistry(
		runtime.Family{Name: "lcr", Ops: lcr.New(shims, lxcHost, keeper), Unavailable: lcrErr},
		runtime.Family{Name: "shim v2", Ops: shims.ShimV2()},
		runtime.Family{Name: "shim v1", Ops: v1.New(shims, keeper), Unavailable: shimErr},
	)
}

// self is corrald's executable, for shims to publish through.
func self() string {
	p, err := os.Executable()
	if err != nil {
		return "corrald"
	}
	return p
}

// findShim returns corral-shim: the configured path, else next to corrald, else on $PATH.
func findShim(configured string) (string, error) {
	if configured != "" {
		if _, err := os.Stat(configured); err != nil {
			return "", fmt.Errorf("shim_path %s: %w", configured, errdefs.ErrFailedPrecondition)
		}
		return configured, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "corral-shim")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("corral-shim")
	if err != nil {
		return "", fmt.Errorf("corral-shim not found next to corrald nor on $PATH (set shim_path): %w", errdefs.ErrFailedPrecondition)
	}
	return p, nil
}

// Serve listens on the configured socket and serves until ctx is done.
func (d *Daemon) Serve(ctx context.Context) error {
	defer d.lock.Close()
	defer d.store.Close()
	defer d.images.Close()
	defer d.cri.Close()
	ln, err := listen(d.cfg.GRPC.Address, 0o660)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- d.grpc.Serve(ln) }()
	log.G(ctx).WithField("address", d.cfg.GRPC.Address).Info("corrald serving")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.G(ctx).Info("corrald shutting down; containers keep running under their keepers and shims")
	stopped := make(chan struct{})
	go func() { d.grpc.GracefulStop(); close(stopped) }()
	d.drain.stop() // waits in flight end now; GracefulStop refuses new calls
	select {
	case <-stopped:
	case <-time.After(d.cfg.Timeouts.Shutdown.Duration):
		d.grpc.Stop()
	}
	return nil
}
