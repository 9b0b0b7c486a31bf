package cri

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/corral-dev/corral/services/images/registry"
)

// Labels of what a CRI pull stores, as containerd's CRI sets them.
const (
	labelManaged = "io.cri-containerd.image"
	pullLease    = time.Hour // how long an interrupted pull's content is kept before it is collected
)

// PullImage implements the CRI: it pulls the image through [cri.registry]'s hosts.toml configuration
// (mirrors, plain HTTP, CAs) with the request's credentials, unpacks it into the CRI's snapshotter,
// and names it, as containerd's CRI does, by its reference, its repository digest and its id (the
// config digest), which it returns.
func (s *Service) PullImage(ctx context.Context, r *runtimeapi.PullImageRequest) (_ *runtimeapi.PullImageResponse, retErr error) {
	defer toGRPC(&retErr)
	id, err := s.pull(s.ns(ctx), r.GetImage().GetImage(), r.GetAuth())
	if err != nil {
		return nil, err
	}
	return &runtimeapi.PullImageResponse{ImageRef: id}, nil
}

// pull pulls image ref with auth as PullImage says, and returns its id.
func (s *Service) pull(ctx context.Context, image string, auth *runtimeapi.AuthConfig) (_ string, retErr error) {
	named, err := reference.ParseDockerRef(image)
	if err != nil {
		return "", fmt.Errorf("invalid image reference %q: %v: %w", image, err, errdefs.ErrInvalidArgument)
	}
	ref := named.String()
	opts := registry.Options{HostsDir: s.cfg.Registry.ConfigPath}
	if opts.Username, opts.Password, err = credentials(auth); err != nil {
		return "", err
	}
	resolver, err := registry.NewResolver(ctx, opts)
	if err != nil {
		return "", err
	}
	ctx, done, err := s.client.WithLease(ctx, leases.WithRandomID(), leases.WithExpiration(pullLease))
	if err != nil {
		return "", fmt.Errorf("failed to take a lease to pull image %s: %w", ref, err)
	}
	defer func() { retErr = errors.Join(retErr, done(context.WithoutCancel(ctx))) }()
	img, err := s.client.Pull(ctx, ref, containerd.WithResolver(resolver), containerd.WithPullUnpack,
		containerd.WithPullSnapshotter(s.snap), containerd.WithPullLabel(labelManaged, "managed"))
	if err != nil {
		return "", fmt.Errorf("failed to pull image %s: %w", ref, err)
	}
	config, err := img.Config(ctx)
	if err != nil {
		return "", fmt.Errorf("failed to read the config of image %s: %w", ref, err)
	}
	id := config.Digest.String()
	for _, name := range []string{reference.TrimNamed(named).String() + "@" + img.Target().Digest.String(), id} {
		if name == ref {
			continue
		}
		if err := s.name(ctx, img.Metadata(), name); err != nil {
			return "", err
		}
	}
	return id, nil
}

// name records image img under name too, replacing what name held.
func (s *Service) name(ctx context.Context, img images.Image, name string) error {
	img.Name = name
	is := s.client.ImageService()
	_, err := is.Create(ctx, img)
	if errdefs.IsAlreadyExists(err) {
		_, err = is.Update(ctx, img, "target", "labels")
	}
	if err != nil {
		return fmt.Errorf("failed to name image %s: %w", name, err)
	}
	return nil
}

// credentials are the user name and password of a CRI AuthConfig: its username and password, or
// its auth, base64 of "user:password". Identity and registry tokens are not supported.
func credentials(a *runtimeapi.AuthConfig) (string, string, error) {
	switch {
	case a == nil:
		return "", "", nil
	case a.IdentityToken != "" || a.RegistryToken != "":
		return "", "", fmt.Errorf("identity and registry tokens are not supported: give a username and password: %w", errdefs.ErrInvalidArgument)
	case a.Username != "":
		return a.Username, a.Password, nil
	case a.Auth != "":
		b, err := base64.StdEncoding.DecodeString(a.Auth)
		user, password, ok := strings.Cut(string(b), ":")
		if err != nil || !ok {
			return "", "", fmt.Errorf("invalid auth: want base64 of USER:PASSWORD: %w", errdefs.ErrInvalidArgument)
		}
		return user, password, nil
	}
	return "", "", nil
}
