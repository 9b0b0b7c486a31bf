package daemon

import (
	contentapi "github.com/containerd/containerd/api/services/content/v1"
	diffapi "github.com/containerd/containerd/api/services/diff/v1"
	imagesapi "github.com/containerd/containerd/api/services/images/v1"
	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/v2/contrib/diffservice"
	"github.com/containerd/containerd/v2/core/diff/apply"
	"github.com/containerd/containerd/v2/plugins/diff/walking"
	"github.com/containerd/containerd/v2/plugins/services/content/contentserver"
	"google.golang.org/grpc"

	"github.com/corral-dev/corral/services/images"
	"github.com/corral-dev/corral/services/snapshots"
)

// serveImages registers containerd's Images, Content, Snapshots and Diff APIs over the image
// store. Content, snapshot and diff requests go through containerd's own adapters; the metadata db
// beneath them namespaces every request and honours its lease.
func serveImages(srv *grpc.Server, st *images.Store) {
	cs := st.DB.ContentStore()
	imagesapi.RegisterImagesServer(srv, images.NewService(st))
	contentapi.RegisterContentServer(srv, contentserver.New(cs))
	snapshotsapi.RegisterSnapshotsServer(srv, snapshots.New(st.DB.Snapshotters()))
	diffapi.RegisterDiffServer(srv, diffservice.FromApplierAndComparer(apply.NewFileSystemApplier(cs), walking.NewWalkingDiff(cs)))
}
