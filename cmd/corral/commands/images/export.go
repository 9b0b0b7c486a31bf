package images

import (
	"context"
	"fmt"
	"io"
	"os"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images/archive"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func exportCommand() *cobra.Command {
	var (
		platformList []string
		all          bool
	)
	cmd := &cobra.Command{
		Use:   "export [--platform P]... [--all-platforms] FILE|- REF...",
		Short: "Export images to an OCI layout tarball that docker load also reads",
		Long: "Export images to FILE or, with -, to standard output: an OCI image layout (oci-layout,\n" +
			"index.json, blobs/) with docker's manifest.json beside it, so that both `corral images\n" +
			"import` and `docker load` read it. By default only this host's platform is exported.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := exportOpts(platformList, all)
			if err != nil {
				return err
			}
			c, err := commands.ContainerdClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			if args[0] == "-" {
				return export(cmd.Context(), c, cmd.OutOrStdout(), args[1:], opts)
			}
			f, err := os.Create(args[0])
			if err != nil {
				return fmt.Errorf("failed to export images: %w", err)
			}
			if err := export(cmd.Context(), c, f, args[1:], opts); err != nil {
				f.Close()
				os.Remove(args[0])
				return err
			}
			if err := f.Close(); err != nil {
				os.Remove(args[0])
				return fmt.Errorf("failed to write %s: %w", args[0], err)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&platformList, "platform", nil, "export this platform (os/arch[/variant]), more than once for several")
	cmd.Flags().BoolVar(&all, "all-platforms", false, "export every platform the images have")
	return cmd
}

// exportOpts returns the archive options for the platforms asked for: every one with all, else
// those listed, else this host's.
func exportOpts(list []string, all bool) ([]archive.ExportOpt, error) {
	switch {
	case all && len(list) > 0:
		return nil, fmt.Errorf("--all-platforms and --platform exclude each other: %w", errdefs.ErrInvalidArgument)
	case all:
		return []archive.ExportOpt{archive.WithAllPlatforms()}, nil
	case len(list) == 0:
		return []archive.ExportOpt{archive.WithPlatform(platforms.DefaultStrict())}, nil
	}
	var ps []platforms.Platform
	for _, s := range list {
		p, err := platforms.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("bad --platform %q: want os/arch[/variant], e.g. linux/amd64: %w", s, errdefs.ErrInvalidArgument)
		}
		ps = append(ps, p)
	}
	return []archive.ExportOpt{archive.WithPlatform(platforms.Ordered(ps...))}, nil
}

// export writes images refs to w.
func export(ctx context.Context, c *containerd.Client, w io.Writer, refs []string, opts []archive.ExportOpt) error {
	is := c.ImageService()
	for _, ref := range refs {
		if _, err := is.Get(ctx, ref); errdefs.IsNotFound(err) {
			return fmt.Errorf("failed to export image %s: no such image: %w", ref, errdefs.ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("failed to export image %s: %w", ref, err)
		}
		opts = append(opts, archive.WithImage(is, ref))
	}
	if err := c.Export(ctx, w, opts...); err != nil {
		return fmt.Errorf("failed to export images %v: %w", refs, err)
	}
	return nil
}
