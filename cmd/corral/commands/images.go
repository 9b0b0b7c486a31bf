package commands

import (
	"context"
	"fmt"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"github.com/spf13/cobra"
)

// Snapshotter names corrald may have, in the order corral prefers them.
var snapshotters = []string{"overlayfs", "native"}

// ContainerdClient dials corrald with containerd's Go client, for the verbs that use containerd's
// own pull, import, export and unpack code; its calls go to the command's --namespace. Those
// libraries log their progress at info level: corral shows only their warnings and errors, the
// errors it returns saying what failed.
func ContainerdClient(cmd *cobra.Command) (*containerd.Client, error) {
	if err := statSocket(Address(cmd)); err != nil {
		return nil, err
	}
	_ = log.SetLevel("warn")
	c, err := containerd.New(Address(cmd), containerd.WithDefaultNamespace(Namespace(cmd)))
	if err != nil {
		return nil, fmt.Errorf("failed to connect to corrald at %s: %w", Address(cmd), err)
	}
	return c, nil
}

// DefaultSnapshotter returns the snapshotter images are unpacked into when none is named: overlayfs
// where corrald has it, else native.
func DefaultSnapshotter(ctx context.Context, c *containerd.Client) (string, error) {
	resp, err := c.IntrospectionService().Plugins(ctx, `type=="io.containerd.snapshotter.v1"`)
	if err != nil {
		return "", fmt.Errorf("failed to list the snapshotters of corrald: %w", err)
	}
	have := map[string]bool{}
	for _, p := range resp.Plugins {
		have[p.ID] = p.InitErr == nil
	}
	for _, name := range snapshotters {
		if have[name] {
			return name, nil
		}
	}
	return "", fmt.Errorf("corrald has none of the snapshotters %v: %w", snapshotters, errdefs.ErrNotFound)
}
