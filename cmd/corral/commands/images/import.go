package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/images/archive"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// importLease is how long the content of an import that corral could not finish (killed) is
// kept before garbage collection may remove it; containerd's own clients use a day.
const importLease = 24 * time.Hour

type importOptions struct {
	baseName, indexName, snapshotter string
}

func importCommand() *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import [--base-name NAME] [--index-name NAME] [--snapshotter NAME] FILE|-",
		Short: "Import images from an OCI layout or docker-archive tarball and unpack them",
		Long: "Import the images of a tarball, an OCI image layout or a docker-archive (docker save),\n" +
			"from FILE or, with -, from standard input, and unpack them for this host's platform.\n" +
			"It prints the names imported. Images named only by a tag in an OCI layout get the name\n" +
			"import-DATE:TAG, or BASE:TAG with --base-name BASE, which also imports only the images\n" +
			"named under BASE. An import that fails leaves no image and no content behind.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := commands.ContainerdClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			if o.snapshotter, err = commands.Snapshotter(ctx, c, o.snapshotter); err != nil {
				return err
			}
			in, name := cmd.InOrStdin(), "standard input"
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("failed to import %s: %w", args[0], err)
				}
				defer f.Close()
				in, name = f, args[0]
			}
			imgs, err := importTar(ctx, c, in, o)
			if err != nil {
				return fmt.Errorf("failed to import %s: %w", name, err)
			}
			for _, img := range imgs {
				fmt.Fprintln(cmd.OutOrStdout(), img.Name)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.baseName, "base-name", "", "name for images an OCI layout names by tag only; import only images under it")
	f.StringVar(&o.indexName, "index-name", "", "also keep the tarball's index as an image of this name")
	f.StringVar(&o.snapshotter, "snapshotter", "", "snapshotter to unpack into (default overlayfs where corrald has it, else native)")
	return cmd
}

// importTar imports the images of tarball r and unpacks them. Everything it stores is held by a
// lease until the images hold it; on failure it removes the images it made and collects the rest.
func importTar(ctx context.Context, c *containerd.Client, r io.Reader, o importOptions) (_ []images.Image, retErr error) {
	ls := c.LeasesService()
	l, err := ls.Create(ctx, leases.WithRandomID(), leases.WithExpiration(importLease))
	if err != nil {
		return nil, fmt.Errorf("failed to create a lease: %w", err)
	}
	ctx = leases.WithLease(ctx, l.ID)
	defer func() {
		if err := ls.Delete(context.WithoutCancel(ctx), l, leases.SynchronousDelete); err != nil && retErr == nil {
			retErr = fmt.Errorf("failed to delete lease %s: %w", l.ID, err)
		}
	}()
	list, err := c.ImageService().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to list images: %w", err)
	}
	before := map[string]images.Image{}
	for _, img := range list {
		before[img.Name] = img
	}
	tr, check := checkTar(r)
	imgs, err := c.Import(ctx, tr, importOpts(o)...)
	check.finish(tr)
	defer func() {
		if retErr != nil {
			retErr = errors.Join(retErr, restore(context.WithoutCancel(ctx), c.ImageService(), imgs, before))
		}
	}()
	for _, img := range imgs {
		// Until the import is done, the lease keeps what an image it replaced held, to put it back.
		if prev, ok := before[img.Name]; ok && prev.Target.Digest != img.Target.Digest {
			if err := ls.AddResource(ctx, l, leases.Resource{ID: prev.Target.Digest.String(), Type: "content"}); err != nil {
				return nil, fmt.Errorf("failed to keep the content of image %s: %w", img.Name, err)
			}
		}
	}
	if err := check.err(err); err != nil {
		return nil, err
	}
	for _, img := range imgs {
		if err := containerd.NewImage(c, img).Unpack(ctx, o.snapshotter); err != nil {
			return nil, fmt.Errorf("failed to unpack image %s into %s: %w", img.Name, o.snapshotter, err)
		}
	}
	return imgs, nil
}

func importOpts(o importOptions) []containerd.ImportOpt {
	opts := []containerd.ImportOpt{containerd.WithImageRefTranslator(archive.FilterRefPrefix(o.baseName))}
	if o.baseName == "" {
		opts[0] = containerd.WithImageRefTranslator(archive.AddRefPrefix("import-" + time.Now().Format("2006-01-02")))
	}
	if o.indexName != "" {
		opts = append(opts, containerd.WithIndexName(o.indexName))
	}
	return opts
}

// restore undoes the import of imgs: the ones not in before are deleted, the others get their
// target back.
func restore(ctx context.Context, is images.Store, imgs []images.Image, before map[string]images.Image) error {
	var errs []error
	for _, img := range imgs {
		var err error
		if prev, ok := before[img.Name]; !ok {
			err = is.Delete(ctx, img.Name)
		} else if prev.Target.Digest != img.Target.Digest {
			_, err = is.Update(ctx, prev, "target")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to undo the import of image %s: %w", img.Name, err))
		}
	}
	return errors.Join(errs...)
}
