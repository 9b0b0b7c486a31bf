package shim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
)

// Client is corrald's side of one task's keeper, for the families that run corral-shim: its work
// dir, its socket, and the timeout of a call.
type Client struct {
	Dir, Socket string
	CallTimeout time.Duration
}

// KeeperOpts are what a family that runs its containers under corral-shim needs from the config.
type KeeperOpts struct {
	// State is corrald's state dir: work dirs are <state>/<ns>/<id>.
	State string
	// ShimBinary is corral-shim.
	ShimBinary string
	// CreateTimeout bounds the keeper's start-up and the runtime's create; CallTimeout any other
	// call; IODrain the stdio drain after an exit.
	CreateTimeout, CallTimeout, IODrain time.Duration
}

// KeeperDeadline is how long corrald waits for a keeper's report: the keeper's own create deadline
// plus a runtime call for its cleanup, so that a keeper that gives up reports (and cleans up) first.
func (o KeeperOpts) KeeperDeadline() time.Duration { return o.CreateTimeout + o.CallTimeout }

// Client returns corrald's side of the keeper of task ns/id.
func (o KeeperOpts) Client(ns, id string) *Client { return NewClient(o.State, ns, id, o.CallTimeout) }

// NewClient returns the client of task ns/id under the state dir: the work dir is <state>/<ns>/<id>,
// the socket <state>/s/<sha256(ns/id)[:24]>.sock, short whatever the id.
func NewClient(state, ns, id string, callTimeout time.Duration) *Client {
	h := sha256.Sum256([]byte(ns + "/" + id))
	return &Client{
		Dir:         filepath.Join(state, ns, id),
		Socket:      filepath.Join(state, "s", hex.EncodeToString(h[:12])+".sock"),
		CallTimeout: callTimeout,
	}
}

// MakeWorkDir creates the task's work dir, and the socket dir; errdefs.ErrAlreadyExists if the task
// has one already.
func (c *Client) MakeWorkDir() error {
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o711); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.Socket), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(c.Dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("work dir %s: %w", c.Dir, errdefs.ErrAlreadyExists)
		}
		return err
	}
	return nil
}

// Remove kills the keeper if it runs, then removes the socket and the work dir.
func (c *Client) Remove() error {
	KillKeeper(c.Dir)
	_ = os.Remove(c.Socket)
	return os.RemoveAll(c.Dir)
}

// Call sends one request to the keeper, bounded by the call timeout.
func (c *Client) Call(ctx context.Context, req Request) (Exit, error) {
	ctx, cancel := context.WithTimeout(ctx, c.CallTimeout)
	defer cancel()
	return Call(ctx, c.Socket, req)
}

// Wait returns the exit of the init (empty execID) or of an exec, as Wait does.
func (c *Client) Wait(ctx context.Context, execID string) (Exit, error) {
	return Wait(ctx, c.Dir, c.Socket, execID)
}

// Finished reports whether the keeper has recorded the init's exit.
func (c *Client) Finished() bool {
	_, err := ReadExit(c.Dir)
	return err == nil
}

// CloseStdin closes the stdin of the init or of an exec; nothing is left to close once the keeper
// has finished.
func (c *Client) CloseStdin(ctx context.Context, execID string) error {
	if _, err := c.Call(ctx, Request{Op: OpCloseStdin, ExecID: execID}); err != nil && !c.Finished() {
		return fmt.Errorf("failed to close stdin of %s: %w", filepath.Base(c.Dir), err)
	}
	return nil
}

// DeleteExec forgets an exited exec the keeper ran; nothing of it is left once the keeper has finished.
func (c *Client) DeleteExec(ctx context.Context, execID string) error {
	if _, err := c.Call(ctx, Request{Op: OpDeleteExec, ExecID: execID}); err != nil && !c.Finished() {
		return fmt.Errorf("failed to delete exec %s of task %s: %w", execID, filepath.Base(c.Dir), err)
	}
	return nil
}

// Execs are exec processes corrald has created but not yet started: the OpExec requests that start
// them, by task and exec id.
type Execs struct {
	mu sync.Mutex
	m  map[string]Request
}

func execKey(dir, execID string) string { return dir + "\x00" + execID }

// Add records req, the exec of the task of c; errdefs.ErrAlreadyExists if its id is taken.
func (e *Execs) Add(c *Client, req Request) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[string]Request{}
	}
	k := execKey(c.Dir, req.ExecID)
	if _, dup := e.m[k]; dup {
		return fmt.Errorf("exec %s: %w", req.ExecID, errdefs.ErrAlreadyExists)
	}
	e.m[k] = req
	return nil
}

// Take removes and returns the created exec execID of the task of c.
func (e *Execs) Take(c *Client, execID string) (Request, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := execKey(c.Dir, execID)
	req, ok := e.m[k]
	delete(e.m, k)
	return req, ok
}

// Start has the keeper start the created exec execID and returns its pid.
func (e *Execs) Start(ctx context.Context, c *Client, execID string) (uint32, error) {
	req, ok := e.Take(c, execID)
	if !ok {
		return 0, fmt.Errorf("exec %s of task %s: %w", execID, filepath.Base(c.Dir), errdefs.ErrNotFound)
	}
	x, err := c.Call(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("failed to start exec %s in task %s: %w", execID, filepath.Base(c.Dir), err)
	}
	return x.Pid, nil
}

// Forget drops the created execs of the task of c, when the task goes.
func (e *Execs) Forget(c *Client) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.m {
		if strings.HasPrefix(k, c.Dir+"\x00") {
			delete(e.m, k)
		}
	}
}

// Delete forgets the exec execID of the task of c: a created one, or an exited one the keeper ran.
func (e *Execs) Delete(ctx context.Context, c *Client, execID string) error {
	if _, pending := e.Take(c, execID); pending {
		return nil
	}
	return c.DeleteExec(ctx, execID)
}
