package cri

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListImages implements the CRI.
func (s *Service) ListImages(ctx context.Context, r *runtimeapi.ListImagesRequest) (_ *runtimeapi.ListImagesResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	all, err := s.images(ctx)
	if err != nil {
		return nil, err
	}
	resp := &runtimeapi.ListImagesResponse{}
	want := r.GetFilter().GetImage().GetImage()
	var match *image
	if want != "" {
		if match, err = s.findImage(ctx, want); errors.Is(err, errdefs.ErrNotFound) {
			return resp, nil
		} else if err != nil {
			return nil, err
		}
	}
	for _, img := range all {
		if match == nil || img.id == match.id {
			resp.Images = append(resp.Images, img.cri())
		}
	}
	return resp, nil
}

// ImageStatus implements the CRI: an image that is not there is no error, but an empty answer.
func (s *Service) ImageStatus(ctx context.Context, r *runtimeapi.ImageStatusRequest) (_ *runtimeapi.ImageStatusResponse, retErr error) {
	defer toGRPC(&retErr)
	img, err := s.findImage(s.ns(ctx), r.GetImage().GetImage())
	if errors.Is(err, errdefs.ErrNotFound) {
		return &runtimeapi.ImageStatusResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	resp := &runtimeapi.ImageStatusResponse{Image: img.cri()}
	if r.GetVerbose() {
		b, err := json.Marshal(map[string]any{"names": img.names, "config": img.config})
		if err != nil {
			return nil, err
		}
		resp.Info = map[string]string{"info": string(b)}
	}
	return resp, nil
}

// RemoveImage implements the CRI: it removes every name of the image; an image that is not there
// is no error.
func (s *Service) RemoveImage(ctx context.Context, r *runtimeapi.RemoveImageRequest) (_ *runtimeapi.RemoveImageResponse, retErr error) {
	defer toGRPC(&retErr)
	ctx = s.ns(ctx)
	img, err := s.findImage(ctx, r.GetImage().GetImage())
	if errors.Is(err, errdefs.ErrNotFound) {
		return &runtimeapi.RemoveImageResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	for i, name := range img.names {
		var opts []images.DeleteOpt
		if i == len(img.names)-1 {
			opts = append(opts, images.SynchronousDelete())
		}
		if err := s.client.ImageService().Delete(ctx, name, opts...); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			return nil, fmt.Errorf("failed to remove image %s: %w", name, err)
		}
	}
	return &runtimeapi.RemoveImageResponse{}, nil
}
