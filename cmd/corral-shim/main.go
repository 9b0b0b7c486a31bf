// Command corral-shim is the keeper of Corral's shim v1 and lcr containers, and a containerd shim v2:
// installed as containerd-shim-lcr-v1, containerd runs LXC containers through it.
//
//	corral-shim -namespace NS -id ID -address ADDR [-publish-binary BIN] start    start a keeper, print its address
//	corral-shim -namespace NS -id ID -address ADDR [-bundle DIR] delete           clean up after a keeper that is gone
//	corral-shim -namespace NS -id ID -address ADDR                                the keeper (run by start)
//	corral-shim path LOG [format F] [max-size S] [max-file N] [stdout-fifo P] [stderr-fifo P]
//	                                            a shim's binary:// logger, writing a container's log
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/containerd/log"
	"google.golang.org/protobuf/proto"

	"github.com/corral-dev/corral/shim"
	"github.com/corral-dev/corral/shim/logs"
)

func main() {
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		// A shim runs its binary:// logger with the URI's query as arguments, never a flag.
		if err := logs.ServeBinary(context.Background(), os.Args[1:]); err != nil {
			fail(err)
		}
		return
	}
	var f shim.Flags
	flag.StringVar(&f.Namespace, "namespace", "", "namespace of the task")
	flag.StringVar(&f.ID, "id", "", "id of the task")
	flag.StringVar(&f.Address, "address", "", "the daemon's API socket")
	flag.StringVar(&f.PublishBinary, "publish-binary", "", "the daemon's executable")
	flag.StringVar(&f.Bundle, "bundle", "", "the task's bundle (delete)")
	flag.BoolVar(&f.Debug, "debug", false, "log at debug level")
	flag.Bool("v", false, "ignored: accepted for containerd's shim contract")
	flag.String("socket", "", "ignored: accepted for containerd's shim contract")
	flag.Parse()
	if f.Namespace == "" || f.ID == "" {
		fail(fmt.Errorf("-namespace and -id are required"))
	}
	if f.Debug {
		_ = log.SetLevel("debug")
	}
	ctx := context.Background()
	switch action := flag.Arg(0); action {
	case "start":
		address, err := shim.Start(f)
		if err != nil {
			fail(err)
		}
		fmt.Print(address)
	case "delete":
		resp, err := shim.Delete(ctx, f)
		if err != nil {
			fail(err)
		}
		b, err := proto.Marshal(resp)
		if err != nil {
			fail(err)
		}
		os.Stdout.Write(b)
	case "":
		if err := shim.Serve(ctx, f, shim.DefaultOptions(os.Args[0])); err != nil {
			log.L.WithError(err).Error("keeper failed")
			os.Exit(1)
		}
	default:
		fail(fmt.Errorf("unknown action %q: accepted are start and delete", action))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "corral-shim:", err)
	os.Exit(1)
}
