package images

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/containerd/console"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/spf13/cobra"

	"github.com/corral-dev/corral/cmd/corral/commands"
	"github.com/corral-dev/corral/services/images/registry"
)

// pullOptions are the flags of images pull.
type pullOptions struct {
	hostsDir, authFile string
	plainHTTP, quiet   bool
	user               string
	platform           string
	snapshotter        string
}

func pullCommand() *cobra.Command {
	var o pullOptions
	cmd := &cobra.Command{
		Use:   "pull [flags] REF",
		Short: "Pull an image from a registry and unpack it into a snapshotter",
		Long: "Pull an image from a registry and unpack it into a snapshotter, as ctr does: corral fetches it\n" +
			"through corrald's content store. A short REF is completed as docker does (busybox is\n" +
			"docker.io/library/busybox:latest). Registries are configured as containerd's config_path: a\n" +
			"directory per registry host under --hosts-dir with a hosts.toml (server, mirrors, ca, skip_verify);\n" +
			"credentials come from a docker config file's auths, or --user. On a terminal the pull shows each\n" +
			"blob's progress; otherwise, or with -q, it prints only REF: DIGEST at the end.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pull(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.hostsDir, "hosts-dir", registry.DefaultHostsDir, "directory of <host>/hosts.toml registry configurations")
	f.StringVar(&o.authFile, "registry-config", registry.DefaultAuthFile(), "docker config file with registry credentials (missing: none)")
	f.BoolVar(&o.plainHTTP, "plain-http", false, "use HTTP for registries that no hosts.toml configures")
	f.StringVarP(&o.user, "user", "u", "", "registry credentials USER[:PASSWORD] (asks for a password on a terminal)")
	f.StringVar(&o.platform, "platform", platforms.DefaultString(), "platform of the manifest to pull")
	f.StringVar(&o.snapshotter, "snapshotter", "", "snapshotter to unpack into (default overlayfs if corrald has it, else native)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print only REF: DIGEST, no progress")
	return cmd
}

func pull(cmd *cobra.Command, ref string, o pullOptions) error {
	ref, err := normalize(ref)
	if err != nil {
		return err
	}
	p, err := platforms.Parse(o.platform)
	if err != nil {
		return fmt.Errorf("invalid --platform %q: want OS[/ARCH[/VARIANT]], like %s: %w", o.platform, platforms.DefaultString(), errdefs.ErrInvalidArgument)
	}
	ropts := registry.Options{HostsDir: o.hostsDir, AuthFile: o.authFile, PlainHTTP: o.plainHTTP}
	for _, f := range []struct{ flag, path string }{{"hosts-dir", o.hostsDir}, {"registry-config", o.authFile}} {
		if _, err := os.Stat(f.path); err != nil && cmd.Flags().Changed(f.flag) {
			return fmt.Errorf("invalid --%s: %w: %w", f.flag, err, errdefs.ErrInvalidArgument)
		}
	}
	if o.user != "" {
		if ropts.Username, ropts.Password, err = credentials(o.user); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	resolver, err := registry.NewResolver(ctx, ropts)
	if err != nil {
		return err
	}
	c, err := commands.ContainerdClient(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	if o.snapshotter, err = commands.Snapshotter(ctx, c, o.snapshotter); err != nil {
		return err
	}
	img, err := pullImage(ctx, c, ref, p, o, resolver, cmd.OutOrStdout(), cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", img.Name, img.Target.Digest)
	return nil
}

// pullImage pulls ref for platform p under a lease of its own, unpacks it into o.snapshotter, and
// draws its progress on out when out is a terminal and o is not quiet.
func pullImage(ctx context.Context, c *containerd.Client, ref string, p platforms.Platform, o pullOptions, resolver remotes.Resolver, out, errOut io.Writer) (_ images.Image, retErr error) {
	ctx, release, err := withLease(ctx, c)
	if err != nil {
		return images.Image{}, err
	}
	defer func() {
		if err := release(); err != nil {
			fmt.Fprintf(errOut, "corral: %v\n", err)
		}
	}()
	match := platforms.Only(p)
	opts := []containerd.RemoteOpt{
		containerd.WithResolver(resolver), containerd.WithPlatformMatcher(match),
		containerd.WithPullUnpack, containerd.WithPullSnapshotter(o.snapshotter),
		containerd.WithImageHandlerWrapper(checkPlatform(c.ContentStore(), p, match)),
	}
	if s := terminal(out); s != nil && !o.quiet {
		t := newTracker(c.ContentStore())
		opts = append(opts, containerd.WithImageHandler(images.HandlerFunc(t.add)))
		stop := showProgress(ctx, t, s)
		defer func() { stop(retErr == nil) }()
	}
	img, err := c.Pull(ctx, ref, opts...)
	if err != nil {
		return images.Image{}, fmt.Errorf("failed to pull image %s: %w", ref, err)
	}
	return img.Metadata(), nil
}

// normalize completes a short reference as docker and containerd do: busybox is
// docker.io/library/busybox:latest.
func normalize(ref string) (string, error) {
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", fmt.Errorf("invalid image reference %q: %v: want [REGISTRY/]NAME[:TAG|@DIGEST]: %w", ref, err, errdefs.ErrInvalidArgument)
	}
	return named.String(), nil
}

// credentials splits --user USER[:PASSWORD], asking for the password on the terminal if it has none.
func credentials(user string) (string, string, error) {
	if name, password, ok := strings.Cut(user, ":"); ok {
		return name, password, nil
	}
	con, err := console.ConsoleFromFile(os.Stdin)
	if err != nil {
		return "", "", fmt.Errorf("--user %s has no password and stdin is no terminal to ask for one: give USER:PASSWORD: %w", user, errdefs.ErrInvalidArgument)
	}
	defer con.Reset()
	fmt.Fprintf(os.Stderr, "Password for %s: ", user)
	if err := con.DisableEcho(); err != nil {
		return "", "", fmt.Errorf("failed to turn off the terminal's echo: %w", err)
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	fmt.Fprintln(os.Stderr)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", "", fmt.Errorf("failed to read the password: %w", err)
	}
	return user, strings.TrimRight(line, "\r\n"), nil
}

// terminal returns a screen on w if w is a terminal, else nil.
func terminal(w io.Writer) *screen {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	con, err := console.ConsoleFromFile(f)
	if err != nil {
		return nil
	}
	s := &screen{out: w}
	if size, err := con.Size(); err == nil {
		s.width = int(size.Width)
	}
	return s
}
