package cri

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/containerd/containerd/v2/pkg/netns"
	"github.com/containerd/errdefs"
	cnins "github.com/containernetworking/plugins/pkg/ns"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PortForward connects stream to TCP port on the pod's loopback (127.0.0.1, else ::1): dialled in
// the pod's network namespace, or the host's for a host-network pod.
func (r streamRuntime) PortForward(ctx context.Context, podID string, port int32, stream io.ReadWriteCloser) error {
	s := r.s
	sb, err := s.find(s.ns(ctx), podID)
	if err != nil {
		return err
	}
	if sb.state != runtimeapi.PodSandboxState_SANDBOX_READY {
		return fmt.Errorf("pod sandbox %s is not ready: %w", sb.id, errdefs.ErrFailedPrecondition)
	}
	conn, err := dialPod(ctx, sb.netns, port)
	if err != nil {
		return fmt.Errorf("failed to connect to port %d of pod sandbox %s: %w", port, sb.id, err)
	}
	if err := forward(conn, stream); err != nil {
		return fmt.Errorf("failed to forward port %d of pod sandbox %s: %w", port, sb.id, err)
	}
	return nil
}

// forward copies between conn and stream, keeping half-closes: once stream ends, conn is shut for
// writing; it returns once conn's side ended, and closes conn.
func forward(conn *net.TCPConn, stream io.ReadWriter) error {
	defer conn.Close()
	in := make(chan error, 1)
	go func() {
		_, err := io.Copy(conn, stream)
		if err == nil {
			err = conn.CloseWrite()
		} else {
			conn.Close()
		}
		in <- err
	}()
	if _, err := io.Copy(stream, conn); err != nil {
		return err
	}
	select {
	case err := <-in:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
	default: // the client may still write; its stream is closed on return
	}
	return nil
}

// dialPod dials TCP port on loopback in the network namespace at path, or the host's if path is "".
// The socket stays in the namespace it was made in.
func dialPod(ctx context.Context, path string, port int32) (*net.TCPConn, error) {
	var conn net.Conn
	dial := func() error {
		var d net.Dialer
		var err4, err6 error
		if conn, err4 = d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))); err4 == nil {
			return nil
		}
		if conn, err6 = d.DialContext(ctx, "tcp", net.JoinHostPort("::1", strconv.Itoa(int(port)))); err6 == nil {
			return nil
		}
		return err4
	}
	var err error
	if path == "" {
		err = dial()
	} else {
		err = netns.LoadNetNS(path).Do(func(cnins.NetNS) error { return dial() })
	}
	if err != nil {
		return nil, err
	}
	return conn.(*net.TCPConn), nil
}
