package shim

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/containerd/console"
	runc "github.com/containerd/go-runc"

	"github.com/corral-dev/corral/engine/lcr"
)

// toolIO returns the container's ends of the stdio for an LXC tool that runs the process
// (lxc-execute, lxc-attach), and what to do once the tool has started: close the keeper's copies of
// those ends, so that the output copies see EOF once the container's processes are gone. With a
// terminal, the tool gets the slave of a new pty, whose master the keeper keeps.
func (s *stdio) toolIO() (lcr.IO, func(), error) {
	if !s.terminal {
		var c exec.Cmd
		s.rio.Set(&c)
		return lcr.IO{Stdin: c.Stdin, Stdout: c.Stdout, Stderr: c.Stderr}, s.releaseContainerEnds, nil
	}
	master, slavePath, err := console.NewPty()
	if err != nil {
		return lcr.IO{}, nil, fmt.Errorf("failed to open a terminal: %w", err)
	}
	slave, err := os.OpenFile(slavePath, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return lcr.IO{}, nil, fmt.Errorf("failed to open a terminal: %w", err)
	}
	s.setConsole(master)
	return lcr.IO{Stdin: slave, Stdout: slave, Stderr: slave, Terminal: true}, func() { slave.Close() }, nil
}

// releaseContainerEnds closes the keeper's copies of the container's ends of its pipes: once the
// process that got them has them, or when no process will (a container killed before it started),
// so that the output copies see EOF as soon as no process holds them.
func (s *stdio) releaseContainerEnds() {
	if sc, ok := s.rio.(runc.StartCloser); ok {
		_ = sc.CloseAfterStart()
	}
}
