package images

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/pkg/progress"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// redrawInterval is how often the progress of a pull is polled and redrawn.
const redrawInterval = 100 * time.Millisecond

// A blob's status in the progress display.
const (
	waiting     = "waiting"
	downloading = "downloading"
	done        = "done"   // fetched by this pull
	exists      = "exists" // already in the store, or not needed
)

// blob is a line of the progress display.
type blob struct {
	name          string // kind and short digest: "layer sha256:0123456789ab"
	status        string
	offset, total int64
}

// barWidth is the number of cells in a blob's progress bar.
const barWidth = 20

// render writes a pull's progress: a line per blob, then the time so far, the bytes fetched and the
// overall speed.
func render(w io.Writer, blobs []blob, fetched int64, elapsed time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, b := range blobs {
		switch b.status {
		case downloading:
			size := progress.Bytes(b.offset).String()
			if b.total > 0 {
				size += "/" + progress.Bytes(b.total).String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.name, b.status, bar(b.offset, b.total), size)
		case waiting:
			fmt.Fprintf(tw, "%s\t%s\t%s\n", b.name, b.status, bar(0, 1))
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.name, b.status, bar(1, 1), progress.Bytes(b.total))
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "elapsed: %.1fs  total: %s  (%s)\n", elapsed.Seconds(), progress.Bytes(fetched), progress.NewBytesPerSecond(fetched, elapsed))
}

// bar draws offset of total as a bar of barWidth cells; empty if the total is unknown.
func bar(offset, total int64) string {
	n := 0
	if offset >= total && total > 0 {
		n = barWidth
	} else if total > 0 {
		n = int(offset * barWidth / total)
	}
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", barWidth-n) + "]"
}

// screen redraws text in place on a terminal width columns wide.
type screen struct {
	out   io.Writer
	width int
	lines int // drawn last time
}

// draw replaces what the screen drew last with text, each line cut to the width so none wraps.
func (s *screen) draw(text string) {
	var b strings.Builder
	if s.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", s.lines) // up to the first line drawn
	}
	b.WriteString("\r\x1b[J") // and clear from there down
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for _, l := range lines {
		if s.width > 0 && len(l) >= s.width {
			l = l[:s.width-1]
		}
		b.WriteString(l + "\n")
	}
	s.lines = len(lines)
	io.WriteString(s.out, b.String())
}

// tracker follows the blobs of a pull, as ctr does: the pull's handler adds them, and the content
// store's ingests and records tell their status.
type tracker struct {
	cs    content.Store
	start time.Time
	mu    sync.Mutex
	descs []ocispec.Descriptor
	known map[digest.Digest]blob // done or exists: no need to ask again
}

func newTracker(cs content.Store) *tracker {
	return &tracker{cs: cs, start: time.Now(), known: map[digest.Digest]blob{}}
}

// add is an images.HandlerFunc recording each descriptor the pull handles.
func (t *tracker) add(_ context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, d := range t.descs {
		if d.Digest == desc.Digest {
			return nil, nil
		}
	}
	t.descs = append(t.descs, desc)
	return nil, nil
}

// blobs returns each blob's line and the bytes fetched so far. When final, the pull is over: a blob
// never fetched exists.
func (t *tracker) blobs(ctx context.Context, final bool) ([]blob, int64, error) {
	active, err := t.cs.ListStatuses(ctx)
	if err != nil {
		return nil, 0, err
	}
	ingests := map[string]content.Status{}
	for _, s := range active {
		ingests[s.Ref] = s
	}
	t.mu.Lock()
	descs := append([]ocispec.Descriptor(nil), t.descs...)
	t.mu.Unlock()
	var out []blob
	var fetched int64
	for _, d := range descs {
		key := remotes.MakeRefKey(ctx, d)
		b, ok := t.known[d.Digest]
		if !ok {
			b = blob{name: strings.SplitN(key, "-", 2)[0] + " " + shortDigest(d.Digest), status: waiting, total: d.Size}
			if s, ok := ingests[key]; ok {
				b.status, b.offset = downloading, s.Offset
			} else if info, err := t.cs.Info(ctx, d.Digest); err == nil {
				b.status, b.offset = exists, info.Size
				if info.CreatedAt.After(t.start) {
					b.status = done
				}
				t.known[d.Digest] = b
			} else if !errdefs.IsNotFound(err) {
				return nil, 0, err
			} else if final {
				b.status = exists
			}
		}
		if b.status == downloading || b.status == done {
			fetched += b.offset
		}
		out = append(out, b)
	}
	return out, fetched, nil
}

func shortDigest(d digest.Digest) string {
	e := d.Encoded()
	if len(e) > 12 {
		e = e[:12]
	}
	return d.Algorithm().String() + ":" + e
}

// showProgress redraws the pull's progress on a terminal until stop is called; stop draws it a last
// time if the pull succeeded, and returns once nothing more is drawn.
func showProgress(ctx context.Context, t *tracker, s *screen) (stop func(succeeded bool)) {
	frame := func(ctx context.Context, final bool) {
		blobs, fetched, err := t.blobs(ctx, final)
		if err != nil {
			return // corrald gone, or the pull cancelled: the pull's error says why
		}
		var b strings.Builder
		render(&b, blobs, fetched, time.Since(t.start))
		s.draw(b.String())
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(redrawInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				frame(ctx, false)
			}
		}
	}()
	return func(succeeded bool) {
		cancel()
		wg.Wait()
		if succeeded {
			frame(context.WithoutCancel(ctx), true)
		}
	}
}
