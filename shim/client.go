package shim

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Start spawns a keeper for the work dir dir with the corral-shim binary and returns the init pid
// once the container is created. The keeper runs detached: in its own session, re-parented away
// from the caller. ctx bounds the wait for its report.
func Start(ctx context.Context, binary, dir string) (uint32, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	logf, err := os.OpenFile(filepath.Join(dir, ShimLog), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		w.Close()
		return 0, err
	}
	defer logf.Close()
	cmd := exec.Command(binary, "start", dir)
	cmd.Dir = dir
	cmd.Stdout = w
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Run() // the intermediate process exits as soon as the keeper is forked
	w.Close()
	if err != nil {
		return 0, fmt.Errorf("failed to start %s: %w%s", binary, err, logTail(dir))
	}
	type result struct {
		rep report
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var rep report
		line, err := bufio.NewReader(r).ReadBytes('\n')
		if err == nil {
			err = json.Unmarshal(line, &rep)
		}
		ch <- result{rep, err}
	}()
	select {
	case <-ctx.Done():
		return 0, fmt.Errorf("keeper did not report within the create timeout: %w", ctx.Err())
	case res := <-ch:
		if res.err != nil {
			return 0, fmt.Errorf("keeper exited without reporting: %w%s", res.err, logTail(dir))
		}
		if res.rep.Error != "" {
			return 0, errors.New(res.rep.Error)
		}
		return res.rep.Pid, nil
	}
}

// Wait returns the exit of the init (empty execID) or of an exec: from the keeper once it is recorded,
// or, for the init, from the exit file if the keeper is gone. A keeper that is gone without an exit
// file gives an error.
func Wait(ctx context.Context, dir, socket, execID string) (Exit, error) {
	e, err := Call(ctx, socket, Request{Op: OpWait, ExecID: execID})
	if err == nil || execID != "" {
		return e, err
	}
	if e, ferr := ReadExit(dir); ferr == nil {
		return e, nil
	}
	if Alive(dir) {
		return Exit{}, fmt.Errorf("failed to reach keeper: %w", err)
	}
	return Exit{}, fmt.Errorf("keeper is gone and recorded no exit status: %w", os.ErrNotExist)
}

// Call sends one request to the keeper listening on socket and returns its answer.
func Call(ctx context.Context, socket string, req Request) (Exit, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return Exit{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	b, err := json.Marshal(req)
	if err != nil {
		return Exit{}, err
	}
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return Exit{}, err
	}
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		if ctx.Err() != nil {
			return Exit{}, ctx.Err()
		}
		return Exit{}, err
	}
	var e Exit
	if err := json.Unmarshal(line, &e); err != nil {
		return Exit{}, err
	}
	if e.Error != "" {
		return Exit{}, errors.New(e.Error)
	}
	return e, nil
}

// Pid returns the keeper's pid if it is still running, else 0.
func Pid(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, ShimPIDFile))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	// Guard against pid reuse: the process must be a keeper of this work dir.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "\x00"+dir) {
		return 0
	}
	return pid
}

// Alive reports whether the keeper of dir is running.
func Alive(dir string) bool { return Pid(dir) != 0 }

// KillKeeper sends SIGKILL to the keeper of dir, if it runs.
func KillKeeper(dir string) {
	if pid := Pid(dir); pid != 0 {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
}

func logTail(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, ShimLog))
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	return ": " + lines[len(lines)-1]
}
