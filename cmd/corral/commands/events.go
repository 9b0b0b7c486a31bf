package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "github.com/containerd/containerd/api/events" // registers the event types for decoding
	eventsapi "github.com/containerd/containerd/api/services/events/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
)

// EventsCommand returns the events command, printing corrald's events as they happen.
func EventsCommand() *cobra.Command {
	var filters []string
	cmd := &cobra.Command{
		Use:   "events [--filter FILTER]...",
		Short: "Print events as they happen, of every namespace, until interrupted",
		Long: "Print events as they happen, of every namespace, one a line: time, namespace, topic and the\n" +
			"event as JSON. Filters use containerd's syntax, such as 'topic~=\"^/tasks/\"' or\n" +
			"'namespace==default'; an event is printed if it matches any of them.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := NewClient(cmd)
			if err != nil {
				return err
			}
			defer client.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			err = client.Subscribe(ctx, filters, func(env *types.Envelope) error {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), formatEvent(env))
				return err
			})
			if ctx.Err() != nil {
				return nil // interrupted
			}
			return err
		},
	}
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "print only events matching `FILTER` (repeatable)")
	return cmd
}

// Subscribe subscribes to corrald's events matching any of filters and calls fn with each, until
// ctx is done, fn fails or the stream ends.
func (c *Client) Subscribe(ctx context.Context, filters []string, fn func(*types.Envelope) error) error {
	stream, err := c.Events.Subscribe(ctx, &eventsapi.SubscribeRequest{Filters: filters})
	if err != nil {
		return fmt.Errorf("failed to subscribe to events: %w", err)
	}
	for {
		env, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to receive events: %w", err)
		}
		if err := fn(env); err != nil {
			return err
		}
	}
}

// formatEvent renders an event as a line: time, namespace, topic, and the event as JSON, or its type
// when that is unknown.
func formatEvent(env *types.Envelope) string {
	event := env.Event.GetTypeUrl()
	if m, err := env.Event.UnmarshalNew(); err == nil {
		var b bytes.Buffer
		if j, err := (protojson.MarshalOptions{UseProtoNames: true}).Marshal(m); err == nil && json.Compact(&b, j) == nil {
			event = b.String() // protojson spaces its output at random
		}
	}
	return fmt.Sprintf("%s %s %s %s", env.Timestamp.AsTime().Local().Format(time.RFC3339Nano), env.Namespace, env.Topic, event)
}
