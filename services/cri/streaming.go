package cri

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming"
)

// streamServer is the CRI streaming server: Exec, Attach and PortForward hand out single-use URLs
// on it, and it serves them with streamRuntime.
type streamServer struct {
	streaming.Server
	http *http.Server
}

// newStreamServer listens on the configured address and serves the streaming server in the
// background until close. The URLs name the address actually bound, so port "0" works.
func (s *Service) newStreamServer() (*streamServer, error) {
	addr := net.JoinHostPort(s.cfg.StreamServerAddress, s.cfg.StreamServerPort)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on the CRI streaming address %s: %w", addr, err)
	}
	cfg := streaming.DefaultConfig
	cfg.Addr, cfg.StreamIdleTimeout = ln.Addr().String(), s.streamIdle
	srv, err := streaming.NewServer(cfg, streamRuntime{s})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("failed to create the CRI streaming server: %w", err)
	}
	ss := &streamServer{Server: srv, http: &http.Server{Handler: srv, ReadHeaderTimeout: cfg.StreamCreationTimeout}}
	go func() {
		if err := ss.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.L.WithError(err).Error("cri: streaming server stopped")
		}
	}()
	log.L.WithField("address", cfg.Addr).Info("cri: streaming server listening")
	return ss, nil
}

// close stops the server and ends every open stream.
func (ss *streamServer) close() error { return ss.http.Close() }

// Exec implements the CRI: it checks that the container runs and returns the URL of a streaming
// exec of cmd in it. The streaming server checks the streams asked for: at least one, and no
// stderr with a terminal.
func (s *Service) Exec(ctx context.Context, r *runtimeapi.ExecRequest) (_ *runtimeapi.ExecResponse, retErr error) {
	defer toGRPC(&retErr)
	if len(r.GetCmd()) == 0 {
		return nil, fmt.Errorf("exec needs a command: %w", errdefs.ErrInvalidArgument)
	}
	c, err := s.runningContainer(s.ns(ctx), r.GetContainerId())
	if err != nil {
		return nil, err
	}
	r.ContainerId = c.id
	return s.stream.GetExec(r)
}

// Attach implements the CRI: it checks that the container runs and returns the URL of a streaming
// attach to its stdio.
func (s *Service) Attach(ctx context.Context, r *runtimeapi.AttachRequest) (_ *runtimeapi.AttachResponse, retErr error) {
	defer toGRPC(&retErr)
	c, err := s.runningContainer(s.ns(ctx), r.GetContainerId())
	if err != nil {
		return nil, err
	}
	r.ContainerId = c.id
	return s.stream.GetAttach(r)
}

// PortForward implements the CRI: it checks that the pod is ready and returns the URL of a
// streaming port-forward into its network namespace.
func (s *Service) PortForward(ctx context.Context, r *runtimeapi.PortForwardRequest) (_ *runtimeapi.PortForwardResponse, retErr error) {
	defer toGRPC(&retErr)
	sb, err := s.find(s.ns(ctx), r.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	if sb.state != runtimeapi.PodSandboxState_SANDBOX_READY {
		return nil, fmt.Errorf("pod sandbox %s is not ready: %w", sb.id, errdefs.ErrFailedPrecondition)
	}
	for _, p := range r.GetPort() {
		if p <= 0 || p > 65535 {
			return nil, fmt.Errorf("port %d is not a port number from 1 to 65535: %w", p, errdefs.ErrInvalidArgument)
		}
	}
	r.PodSandboxId = sb.id
	return s.stream.GetPortForward(r)
}

// runningContainer returns container id (or the one its prefix names) if it is running.
func (s *Service) runningContainer(ctx context.Context, id string) (*ctr, error) {
	c, err := s.findContainer(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return nil, fmt.Errorf("container %s is %s, not running: %w", c.id, c.state, errdefs.ErrFailedPrecondition)
	}
	return c, nil
}
