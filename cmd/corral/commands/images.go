package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

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

// Snapshotter returns the snapshotter images are unpacked into: name, which corrald must have, or
// when name is "", overlayfs where corrald has it, else native.
func Snapshotter(ctx context.Context, c *containerd.Client, name string) (string, error) {
	resp, err := c.IntrospectionService().Plugins(ctx, `type=="io.containerd.snapshotter.v1"`)
	if err != nil {
		return "", fmt.Errorf("failed to list the snapshotters of corrald: %w", err)
	}
	var have []string
	for _, p := range resp.Plugins {
		if p.InitErr == nil {
			have = append(have, p.ID)
		}
	}
	if name != "" {
		if !slices.Contains(have, name) {
			return "", fmt.Errorf("invalid --snapshotter %q: corrald has %s: %w", name, strings.Join(have, ", "), errdefs.ErrInvalidArgument)
		}
		return name, nil
	}
	for _, name := range snapshotters {
		if slices.Contains(have, name) {
			return name, nil
		}
	}
	return "", fmt.Errorf("corrald has none of the snapshotters %v: %w", snapshotters, errdefs.ErrNotFound)
}
