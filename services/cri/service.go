// Package cri serves the Kubernetes CRI (k8s.io/cri-api runtime.v1 RuntimeService and ImageService)
// on corrald's gRPC socket. It drives corrald through containerd's Go client on that same socket, in
// the namespace [cri] names: a pod sandbox is an ordinary container and task whose CRI metadata sits
// in its labels and extensions, as containerd's CRI keeps it, so pods survive a corrald restart
// exactly as tasks do and no second store exists.
package cri

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/corral-dev/corral/config"
	"github.com/corral-dev/corral/runtime"
)

// Service is the CRI server: both RuntimeService and ImageService.
type Service struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	runtimeapi.UnimplementedImageServiceServer

	cfg         config.CRI
	runtimes    map[string]string           // RuntimeClass handler → resolved runtime name; "" → default_runtime
	features    map[string]runtime.Features // runtime name → what it gives containers, asked at start
	client      *containerd.Client
	dir         string        // <state>/cri: sandbox dirs and network namespaces
	snap        string        // the snapshotter of pods and containers
	fsRoot      string        // its root, for ImageFsInfo
	stopTimeout time.Duration // bounds waiting for a killed pause process (timeouts.runtime_call)
	ioDrain     time.Duration // bounds reading an exec's output once it exited (timeouts.io_drain)
	streamIdle  time.Duration // closes idle streams (timeouts.stream_idle)
	stream      *streamServer
	net         *network
	outputs     fanouts // attached clients of containers' output FIFOs

	mu      sync.Mutex
	running map[string]string  // pod names being created → sandbox id
	bundles string             // the bundles of the namespace's tasks, where keepers record OOM kills
	stop    context.CancelFunc // ends the OOM watch
}

// Opts is what the CRI needs from corrald.
type Opts struct {
	// Config is corrald's configuration.
	Config *config.Config
	// Resolve resolves and checks a runtime name as corrald's containers service does.
	Resolve func(name string) (string, error)
	// Features says what a resolved runtime name gives containers (recursive read-only mounts, user
	// namespaces); nil gives every handler none.
	Features func(ctx context.Context, name string) runtime.Features
	// Snapshotter is the snapshotter the CRI unpacks images into; SnapshotRoot its root directory.
	Snapshotter, SnapshotRoot string
	// Bundles is the directory of the tasks' bundles, <Bundles>/<namespace>/<id>.
	Bundles string
}

// New checks the [cri] table against the runtimes corrald accepts, asks each handler's runtime
// for its features (recursive read-only mounts, user namespaces), connects containerd's client to corrald's own
// socket (the connection is made on first use, once corrald serves) and starts the streaming
// server.
func New(o Opts) (*Service, error) {
	cfg := o.Config.CRI
	rts := map[string]string{}
	def, err := o.Resolve("")
	if err != nil {
		return nil, fmt.Errorf("failed to resolve default_runtime for the CRI's empty handler: %w", err)
	}
	rts[""] = def
	for _, h := range cfg.Handlers() {
		rt, err := o.Resolve(cfg.Runtimes[h].Runtime)
		if err != nil {
			return nil, fmt.Errorf("invalid cri.runtimes.%s: %w", h, err)
		}
		rts[h] = rt
	}
	feats := map[string]runtime.Features{}
	for _, rt := range rts {
		if _, ok := feats[rt]; !ok && o.Features != nil {
			ctx, cancel := context.WithTimeout(context.Background(), o.Config.Timeouts.RuntimeCall.Duration)
			feats[rt] = o.Features(ctx, rt)
			cancel()
		}
	}
	// Calls wait for the connection: the OOM watch dials before corrald serves, and a refused dial
	// would otherwise fail every call for the reconnect backoff (a second or more after start).
	client, err := containerd.New(o.Config.GRPC.Address, containerd.WithDefaultNamespace(cfg.Namespace),
		containerd.WithCallOpts([]grpc.CallOption{grpc.WaitForReady(true)}))
	if err != nil {
		return nil, fmt.Errorf("failed to create the CRI's client of %s: %w", o.Config.GRPC.Address, err)
	}
	dir := filepath.Join(o.Config.State, "cri")
	s := &Service{
		cfg: cfg, runtimes: rts, features: feats, client: client, dir: dir, snap: o.Snapshotter, fsRoot: o.SnapshotRoot,
		stopTimeout: o.Config.Timeouts.RuntimeCall.Duration, ioDrain: o.Config.Timeouts.IODrain.Duration,
		streamIdle: o.Config.Timeouts.StreamIdle.Duration, net: newNetwork(cfg.CNI, filepath.Join(dir, "netns")),
		running: map[string]string{}, bundles: filepath.Join(o.Bundles, cfg.Namespace),
	}
	if s.stream, err = s.newStreamServer(); err != nil {
		client.Close()
		return nil, err
	}
	var ctx context.Context
	ctx, s.stop = context.WithCancel(context.Background())
	go s.watchOOM(ctx)
	return s, nil
}

// Register serves both CRI services on srv.
func (s *Service) Register(srv *grpc.Server) {
	runtimeapi.RegisterRuntimeServiceServer(srv, s)
	runtimeapi.RegisterImageServiceServer(srv, s)
}

// Close stops the streaming server, ending its streams, and closes the client.
func (s *Service) Close() error {
	s.stop()
	return errors.Join(s.stream.close(), s.client.Close())
}

// ns is ctx in the CRI's containerd namespace.
func (s *Service) ns(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, s.cfg.Namespace)
}

// newID returns a fresh 64-hex-digit id, as containerd's CRI makes them.
func newID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sandboxDir is where a sandbox's files (hostname, hosts, resolv.conf) are kept.
func (s *Service) sandboxDir(id string) string { return filepath.Join(s.dir, "sandboxes", id) }

// quote makes v a containerd filter string value.
func quote(v string) string { return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"` }
