package images

import (
	"context"
	"fmt"

	imagesapi "github.com/containerd/containerd/api/services/images/v1"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/metadata"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/services"
)

// Service implements containerd's Images API over the store's metadata db. Names and filters are
// containerd's own (core/images, core/metadata); the namespace and lease come from the request.
type Service struct {
	imagesapi.UnimplementedImagesServer
	images images.Store
	store  *Store
}

// NewService returns the Images API of s.
func NewService(s *Store) *Service {
	return &Service{images: metadata.NewImageStore(s.DB), store: s}
}

// Get implements the Images API.
func (s *Service) Get(ctx context.Context, r *imagesapi.GetImageRequest) (*imagesapi.GetImageResponse, error) {
	if _, err := services.Namespace(ctx); err != nil {
		return nil, services.ToGRPC(err)
	}
	img, err := s.images.Get(ctx, r.Name)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &imagesapi.GetImageResponse{Image: toProto(img)}, nil
}

// List implements the Images API, with containerd's filters (name, target.digest, labels.KEY, …).
func (s *Service) List(ctx context.Context, r *imagesapi.ListImagesRequest) (*imagesapi.ListImagesResponse, error) {
	if _, err := services.Namespace(ctx); err != nil {
		return nil, services.ToGRPC(err)
	}
	imgs, err := s.images.List(ctx, r.Filters...)
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	resp := &imagesapi.ListImagesResponse{}
	for _, img := range imgs {
		resp.Images = append(resp.Images, toProto(img))
	}
	return resp, nil
}

// Create implements the Images API.
func (s *Service) Create(ctx context.Context, r *imagesapi.CreateImageRequest) (*imagesapi.CreateImageResponse, error) {
	img, err := s.write(ctx, r.Image, func(img images.Image) (images.Image, error) { return s.images.Create(ctx, img) })
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &imagesapi.CreateImageResponse{Image: toProto(img)}, nil
}

// Update implements the Images API: the mask's paths (labels, labels.KEY, target, annotations)
// or, without one, every field.
func (s *Service) Update(ctx context.Context, r *imagesapi.UpdateImageRequest) (*imagesapi.UpdateImageResponse, error) {
	img, err := s.write(ctx, r.Image, func(img images.Image) (images.Image, error) {
		return s.images.Update(ctx, img, r.UpdateMask.GetPaths()...)
	})
	if err != nil {
		return nil, services.ToGRPC(err)
	}
	return &imagesapi.UpdateImageResponse{Image: toProto(img)}, nil
}

func (s *Service) write(ctx context.Context, in *imagesapi.Image, op func(images.Image) (images.Image, error)) (images.Image, error) {
	if _, err := services.Namespace(ctx); err != nil {
		return images.Image{}, err
	}
	if in.GetName() == "" {
		return images.Image{}, fmt.Errorf("image name is required: %w", errdefs.ErrInvalidArgument)
	}
	img, err := op(fromProto(in))
	if err != nil {
		return images.Image{}, fmt.Errorf("image %s: %w", in.Name, err)
	}
	return img, nil
}

// Delete implements the Images API. What the image alone held is collected soon after, or before
// the answer when the request asks for a synchronous delete.
func (s *Service) Delete(ctx context.Context, r *imagesapi.DeleteImageRequest) (*emptypb.Empty, error) {
	if _, err := services.Namespace(ctx); err != nil {
		return nil, services.ToGRPC(err)
	}
	var opts []images.DeleteOpt
	if r.Target != nil {
		target := oci.DescriptorFromProto(r.Target)
		opts = append(opts, images.DeleteTarget(&target))
	}
	if err := s.images.Delete(ctx, r.Name, opts...); err != nil {
		return nil, services.ToGRPC(fmt.Errorf("failed to delete image %s: %w", r.Name, err))
	}
	if r.Sync {
		if err := s.store.Collect(ctx); err != nil {
			return nil, services.ToGRPC(err)
		}
	}
	return &emptypb.Empty{}, nil
}

func toProto(img images.Image) *imagesapi.Image {
	return &imagesapi.Image{Name: img.Name, Labels: img.Labels, Target: oci.DescriptorToProto(img.Target),
		CreatedAt: timestamppb.New(img.CreatedAt), UpdatedAt: timestamppb.New(img.UpdatedAt)}
}

// fromProto converts a request's image; a missing target or time stays zero, for the store to refuse.
func fromProto(img *imagesapi.Image) images.Image {
	out := images.Image{Name: img.Name, Labels: img.Labels}
	if img.Target != nil {
		out.Target = oci.DescriptorFromProto(img.Target)
	}
	if img.CreatedAt != nil {
		out.CreatedAt = img.CreatedAt.AsTime()
	}
	if img.UpdatedAt != nil {
		out.UpdatedAt = img.UpdatedAt.AsTime()
	}
	return out
}
