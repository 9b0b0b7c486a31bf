package images

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/core/metadata"
	"github.com/containerd/log"
)

// gcDelay lets the deletions of one client request (an image, then its lease) settle before a
// collection starts.
const gcDelay = 50 * time.Millisecond

// collector runs the db's garbage collection soon after a deletion, one run at a time, coalescing
// the deletions that arrive meanwhile. containerd's own scheduler is a plugin registered by init(),
// so corrald has this small one.
type collector struct {
	db   *metadata.DB
	mu   sync.Mutex // one collection at a time
	kick chan struct{}
	done chan struct{}
	once sync.Once
}

func newCollector(db *metadata.DB) *collector {
	c := &collector{db: db, kick: make(chan struct{}, 1), done: make(chan struct{})}
	db.RegisterMutationCallback(func(dirty bool) {
		if dirty {
			select {
			case c.kick <- struct{}{}:
			default:
			}
		}
	})
	go c.run()
	return c
}

func (c *collector) run() {
	for {
		select {
		case <-c.done:
			return
		case <-c.kick:
		}
		select {
		case <-c.done:
			return
		case <-time.After(gcDelay):
		}
		if err := c.collect(context.Background()); err != nil {
			log.L.WithError(err).Warn("garbage collection failed")
		}
	}
}

func (c *collector) collect(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	stats, err := c.db.GarbageCollect(ctx)
	if err != nil {
		return fmt.Errorf("failed to collect garbage: %w", err)
	}
	log.G(ctx).WithField("d", stats.Elapsed()).Debug("garbage collected")
	return nil
}

func (c *collector) stop() { c.once.Do(func() { close(c.done) }) }

// Collect removes now the content, snapshots and ingests that nothing references: no image,
// container, lease or gc.root label.
func (s *Store) Collect(ctx context.Context) error { return s.gc.collect(ctx) }
