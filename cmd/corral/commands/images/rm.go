package images

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

func rmCommand() *cobra.Command {
	var force, sync bool
	cmd := &cobra.Command{
		Use:     "rm [--force] [--sync=false] REF...",
		Aliases: []string{"remove", "delete", "del"},
		Short:   "Remove images; one a container uses only with --force",
		Long: "Remove images, printing each name removed. An image a container of the namespace was\n" +
			"created from is refused unless --force; the container keeps its snapshot either way. By\n" +
			"default the content and snapshots only these images held are collected before rm returns.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := commands.ContainerdClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			failed := false
			for i, ref := range args {
				if err := remove(cmd.Context(), c, ref, force, sync && i == len(args)-1); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "corral: %v\n", err)
					failed = true
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), ref)
			}
			if failed {
				return &commands.ExitError{Status: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove an image even if containers use it")
	cmd.Flags().BoolVar(&sync, "sync", true, "collect what the images held before returning")
	return cmd
}

// remove deletes image ref unless a container uses it and force is not set; with sync, garbage
// collection runs before it returns.
func remove(ctx context.Context, c *containerd.Client, ref string, force, sync bool) error {
	if _, err := c.ImageService().Get(ctx, ref); errdefs.IsNotFound(err) {
		return fmt.Errorf("failed to remove image %s: no such image: %w", ref, errdefs.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("failed to remove image %s: %w", ref, err)
	}
	if !force {
		users, err := c.ContainerService().List(ctx, "image=="+strconv.Quote(ref))
		if err != nil {
			return fmt.Errorf("failed to list the containers of image %s: %w", ref, err)
		}
		var ids []string
		for _, u := range users {
			ids = append(ids, u.ID)
		}
		if err := inUse(ref, ids); err != nil {
			return err
		}
	}
	var opts []images.DeleteOpt
	if sync {
		opts = append(opts, images.SynchronousDelete())
	}
	if err := c.ImageService().Delete(ctx, ref, opts...); err != nil {
		return fmt.Errorf("failed to remove image %s: %w", ref, err)
	}
	return nil
}

// inUse refuses to remove image ref when containers ids use it.
func inUse(ref string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	users := "container " + ids[0] + " uses it; remove it"
	if len(ids) > 1 {
		users = "containers " + strings.Join(ids, ", ") + " use it; remove them"
	}
	return fmt.Errorf("failed to remove image %s: %s first or use --force: %w", ref, users, errdefs.ErrFailedPrecondition)
}
