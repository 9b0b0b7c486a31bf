package images

import (
	"fmt"
	"sort"
	"strings"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/platforms"
	"github.com/docker/go-units"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func lsCommand() *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:     "ls [-q] [FILTER...]",
		Aliases: []string{"list"},
		Short:   "List images: name, media type, digest, size for this host and platforms",
		Long: "List images: name, media type, digest, size for this host and platforms. Filters are\n" +
			"containerd's, e.g. name~=busybox, labels.KEY==VALUE, target.digest==sha256:…; several\n" +
			"arguments list the images any of them matches.",
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := commands.ContainerdClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			list, err := c.ImageService().List(ctx, args...)
			if err != nil {
				return fmt.Errorf("failed to list images: %w", err)
			}
			if quiet {
				for _, img := range list {
					fmt.Fprintln(cmd.OutOrStdout(), img.Name)
				}
				return nil
			}
			cs := c.ContentStore()
			w := commands.NewTable(cmd.OutOrStdout(), "REF\tTYPE\tDIGEST\tSIZE\tPLATFORMS")
			for _, img := range list {
				size := "-"
				if n, err := img.Size(ctx, cs, platforms.Default()); err == nil {
					size = units.BytesSize(float64(n))
				}
				ps, err := images.Platforms(ctx, cs, img.Target)
				if err != nil {
					ps = nil
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", img.Name, img.Target.MediaType, img.Target.Digest, size, platformList(ps))
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the names")
	return cmd
}

// platformList prints platforms sorted and once each, "-" for none.
func platformList(ps []ocispec.Platform) string {
	seen := map[string]bool{}
	var names []string
	for _, p := range ps {
		if s := platforms.Format(p); !seen[s] {
			seen[s] = true
			names = append(names, s)
		}
	}
	if len(names) == 0 {
		return "-"
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}
