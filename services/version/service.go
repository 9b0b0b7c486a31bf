// Package version serves containerd's version API with corrald's build version.
package version

import (
	"context"

	versionapi "github.com/containerd/containerd/api/services/version/v1"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Version and Revision, the git commit, are set at build time with -ldflags -X; corrald and corral
// share them.
var (
	Version  = "dev"
	Revision = ""
)

// Service implements containerd's version API.
type Service struct {
	versionapi.UnimplementedVersionServer
}

// Version implements the version API.
func (Service) Version(context.Context, *emptypb.Empty) (*versionapi.VersionResponse, error) {
	return &versionapi.VersionResponse{Version: Version, Revision: Revision}, nil
}
