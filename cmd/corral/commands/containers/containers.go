// Package containers holds the corral containers commands: ls, info and rm.
package containers

import (
	"encoding/json"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/corral-dev/corral/cmd/corral/commands"
)

// Command returns the containers command group.
func Command() *cobra.Command {
	cmd := commands.Group(&cobra.Command{
		Use:     "containers",
		Aliases: []string{"c"},
		Short:   "Manage containers",
	})
	cmd.AddCommand(lsCommand(), infoCommand(), RmCommand())
	return cmd
}

// summary is a container as `containers ls --format json` prints it.
type summary struct {
	ID        string            `json:"id"`
	Runtime   string            `json:"runtime"`
	CreatedAt time.Time         `json:"created_at"`
	Labels    map[string]string `json:"labels"`
}

// detail is a container as `containers info` prints it, its spec decoded.
type detail struct {
	summary
	UpdatedAt time.Time `json:"updated_at"`
	Spec      any       `json:"spec"`
}

func newSummary(c *containersapi.Container) summary {
	labels := c.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return summary{ID: c.ID, Runtime: c.Runtime.GetName(), CreatedAt: asTime(c.CreatedAt), Labels: labels}
}

func newDetail(c *containersapi.Container) detail {
	d := detail{summary: newSummary(c), UpdatedAt: asTime(c.UpdatedAt)}
	if v := c.Spec.GetValue(); json.Valid(v) {
		d.Spec = json.RawMessage(v)
	} else if c.Spec != nil {
		d.Spec = map[string]any{"type_url": c.Spec.TypeUrl, "value": v}
	}
	return d
}

func asTime(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime().Local()
}
