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
)

// Requests a keeper serves, one line per connection.
const (
	reqWait       = "wait"
	reqCloseStdin = "close-stdin"
)

// server answers corrald on the keeper's unix socket.
type server struct {
	ln         net.Listener
	closeStdin func()
	done       chan struct{}
	once       sync.Once
	exited     Exit
	conns      sync.WaitGroup
}

func listen(path string, closeStdin func()) (*server, error) {
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return &server{ln: ln, closeStdin: closeStdin, done: make(chan struct{})}, nil
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
			s.handle(conn)
		}()
	}
}

func (s *server) handle(conn net.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	var reply Exit
	switch line[:len(line)-1] {
	case reqWait:
		<-s.done
		reply = s.exited
	case reqCloseStdin:
		s.closeStdin()
	default:
		reply.Error = fmt.Sprintf("unknown request %q", line)
	}
	b, _ := json.Marshal(reply)
	_, _ = conn.Write(append(b, '\n'))
}

// exit answers every waiter with e, then stops listening once they are served.
func (s *server) exit(e Exit) {
	s.exited = e
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
