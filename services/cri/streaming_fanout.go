package cri

import (
	"io"
	"os"
	"sync"
	"syscall"
)

// fanouts share the reading of containers' output FIFOs among the clients attached to them: while
// any client is attached to a FIFO, one reader writes each chunk to every client in turn, so that
// every client sees all the output from its attach on. A client that stops reading holds the others
// up, as under containerd's CRI; one whose write fails is detached.
type fanouts struct {
	mu sync.Mutex
	m  map[string]*fanout // by FIFO path
}

// fanout is one FIFO's reader and its clients.
type fanout struct {
	f    *os.File
	subs map[*subscriber]struct{}
}

// subscriber is an attached client's writer; gone is set, under mu, once its Attach returns, so
// that no write reaches it after.
type subscriber struct {
	mu    sync.Mutex
	w     io.Writer
	gone  bool
	ended chan struct{} // closed when it gets no more output
}

// attach adds w to the clients of the FIFO at path, opening it (and dropping what it buffered while
// no one was attached) for the first. It returns a channel closed once w gets no more output: the
// FIFO ended or a write to w failed; and detach, which w's caller must call before it returns.
func (fs *fanouts) attach(path string, w io.Writer) (ended <-chan struct{}, detach func(), _ error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fo := fs.m[path]
	if fo == nil {
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return nil, nil, err
		}
		discardBuffered(f)
		fo = &fanout{f: f, subs: map[*subscriber]struct{}{}}
		if fs.m == nil {
			fs.m = map[string]*fanout{}
		}
		fs.m[path] = fo
		go fs.copy(path, fo)
	}
	s := &subscriber{w: w, ended: make(chan struct{})}
	fo.subs[s] = struct{}{}
	return s.ended, func() { fs.detach(path, fo, s) }, nil
}

// detach removes s once no write to it is under way; the last client out closes the FIFO, which
// ends its reader.
func (fs *fanouts) detach(path string, fo *fanout, s *subscriber) {
	s.mu.Lock()
	s.gone = true
	s.mu.Unlock()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if _, ok := fo.subs[s]; ok {
		delete(fo.subs, s)
		close(s.ended)
	}
	if len(fo.subs) == 0 && fs.m[path] == fo {
		delete(fs.m, path)
		fo.f.Close()
	}
}

// copy reads the FIFO until it ends or is closed, writing each chunk to every client; at the end
// every client's ended is closed.
func (fs *fanouts) copy(path string, fo *fanout) {
	buf := make([]byte, 32<<10)
	for {
		n, err := fo.f.Read(buf)
		if n > 0 {
			fs.mu.Lock()
			subs := make([]*subscriber, 0, len(fo.subs))
			for s := range fo.subs {
				subs = append(subs, s)
			}
			fs.mu.Unlock()
			for _, s := range subs {
				s.mu.Lock()
				failed := false
				if !s.gone {
					_, werr := s.w.Write(buf[:n])
					failed = werr != nil
				}
				s.mu.Unlock()
				if failed {
					fs.detach(path, fo, s)
				}
			}
		}
		if err != nil {
			break
		}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for s := range fo.subs {
		delete(fo.subs, s)
		close(s.ended)
	}
	if fs.m[path] == fo {
		delete(fs.m, path)
		fo.f.Close()
	}
}
