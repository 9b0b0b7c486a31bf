// Command corral-shim is the keeper of shim v1 and lcr containers: corrald starts one per container.
//
//	corral-shim start WORKDIR   fork a detached keeper for WORKDIR, then exit
//	corral-shim keep WORKDIR    the keeper itself (run by start)
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/containerd/log"
	"github.com/corral-dev/corral/shim"
)

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "start" && os.Args[1] != "keep") {
		fmt.Fprintln(os.Stderr, "usage: corral-shim start|keep WORKDIR")
		os.Exit(2)
	}
	dir := os.Args[2]
	if os.Args[1] == "start" {
		if err := start(dir); err != nil {
			fmt.Fprintln(os.Stderr, "corral-shim:", err)
			os.Exit(1)
		}
		return
	}
	// A write to a FIFO whose reader left must never kill the keeper.
	signal.Ignore(syscall.SIGPIPE)
	out := os.NewFile(3, "report")
	if err := shim.Keep(context.Background(), dir, out); err != nil {
		log.L.WithError(err).Error("keeper failed")
		os.Exit(1)
	}
}

// start re-executes corral-shim as the keeper in a new session and returns without waiting, so the
// keeper is re-parented to init (or the nearest subreaper) instead of staying corrald's child.
func start(dir string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "keep", dir)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr // the work dir's shim.log
	cmd.ExtraFiles = []*os.File{os.Stdout}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd.Start()
}
