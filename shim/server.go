package shim

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Request is one call to a keeper: one JSON line per connection, answered by one Exit line.
type Request struct {
	// Op is one of the Op* constants.
	Op string `json:"op"`
	// ExecID names an exec process; empty means the init.
	ExecID string `json:"exec_id,omitempty"`
	// Signal is the signal for OpKill; All sends it to every process of the container.
	Signal int  `json:"signal,omitempty"`
	All    bool `json:"all,omitempty"`
	// Process, Stdin, Stdout and Stderr describe the exec for OpExec.
	Process *specs.Process `json:"process,omitempty"`
	Stdin   string         `json:"stdin,omitempty"`
	Stdout  string         `json:"stdout,omitempty"`
	Stderr  string         `json:"stderr,omitempty"`
}

// Keeper operations.
const (
	// OpWait is answered with the process's exit once it is recorded.
	OpWait = "wait"
	// OpCloseStdin closes the process's stdin.
	OpCloseStdin = "close-stdin"
	// OpExec starts an exec process; the answer carries its pid.
	OpExec = "exec"
	// OpKill signals an exec process, or for the lxc driver the init (the runc driver's init is
	// signalled through the runtime).
	OpKill = "kill"
	// OpStart starts the init of the lxc driver's created container; the answer carries its pid.
	OpStart = "start"
	// OpDeleteExec forgets an exited exec process.
	OpDeleteExec = "delete-exec"
)

// server answers corrald on the keeper's unix socket.
type server struct {
	ln    net.Listener
	k     *keeper
	done  chan struct{}
	once  sync.Once
	conns sync.WaitGroup
}

func listen(path string) (*server, error) {
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return &server{ln: ln, done: make(chan struct{})}, nil
}

func (s *server) serve(ctx context.Context) {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		go func() {
			defer s.conns.Done()
			defer conn.Close()
			s.handle(ctx, conn)
		}()
	}
}

func (s *server) handle(ctx context.Context, conn net.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	var req Request
	var reply Exit
	if err := json.Unmarshal(line, &req); err != nil {
		reply.Error = fmt.Sprintf("bad request: %v", err)
	} else if reply, err = s.k.serve(ctx, req); err != nil {
		reply.Error = err.Error()
	}
	b, _ := json.Marshal(reply)
	_, _ = conn.Write(append(b, '\n'))
}

// exit stops accepting once the init's exit is recorded, and waits briefly for pending answers.
func (s *server) exit() {
	s.once.Do(func() { close(s.done) })
	s.close()
	waited := make(chan struct{})
	go func() { s.conns.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
	}
}

func (s *server) close() {
	s.ln.Close()
}
