package images

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// inspection is an image as `images inspect` prints it: its record, and the manifest and config
// for this host's platform.
type inspection struct {
	Name      string             `json:"name"`
	Target    ocispec.Descriptor `json:"target"`
	Labels    map[string]string  `json:"labels"`
	CreatedAt time.Time          `json:"created_at"`
	UpdatedAt time.Time          `json:"updated_at"`
	// Config is the OCI image config: its config holds entrypoint, cmd, env, working dir, user,
	// stop signal, exposed ports and labels.
	Config ocispec.Image        `json:"config"`
	Layers []ocispec.Descriptor `json:"layers"`
	// ChainIDs name the snapshots of the layers, the last one the image's root filesystem.
	ChainIDs []digest.Digest `json:"chain_ids"`
	// Size is the size of the image's content for this platform: manifest, config and layers.
	Size int64 `json:"size"`
}

func inspectCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect REF",
		Short: "Print an image as JSON: its record, config, layers and size for this platform",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := commands.ContainerdClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			in, err := inspect(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return commands.PrintJSON(cmd.OutOrStdout(), in)
		},
	}
}

func inspect(ctx context.Context, c *containerd.Client, ref string) (*inspection, error) {
	img, err := c.ImageService().Get(ctx, ref)
	if errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("failed to inspect image %s: no such image: %w", ref, errdefs.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("failed to inspect image %s: %w", ref, err)
	}
	cs := c.ContentStore()
	m, err := images.Manifest(ctx, cs, img.Target, platforms.Default())
	if err != nil {
		return nil, fmt.Errorf("failed to read the manifest of image %s: %w", ref, err)
	}
	b, err := content.ReadBlob(ctx, cs, m.Config)
	if err != nil {
		return nil, fmt.Errorf("failed to read the config of image %s: %w", ref, err)
	}
	in := &inspection{Name: img.Name, Target: img.Target, Labels: img.Labels, CreatedAt: img.CreatedAt.Local(),
		UpdatedAt: img.UpdatedAt.Local(), Layers: m.Layers}
	if err := json.Unmarshal(b, &in.Config); err != nil {
		return nil, fmt.Errorf("failed to decode the config %s of image %s: %w", m.Config.Digest, ref, err)
	}
	in.ChainIDs = identity.ChainIDs(slices.Clone(in.Config.RootFS.DiffIDs)) // it works in place
	if in.Size, err = img.Size(ctx, cs, platforms.Default()); err != nil {
		return nil, fmt.Errorf("failed to size image %s: %w", ref, err)
	}
	return in, nil
}
