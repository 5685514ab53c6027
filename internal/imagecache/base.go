package imagecache

import (
	"context"
	"fmt"
	"sync/atomic"
)

// flight is one fetch of a base that concurrent callers share. It runs
// until it ends or every caller waiting for it has given up, unless it is
// lazy: a guest reads the base through it (over NBD) while it is filled,
// and it then runs until the base is complete or the cache stops serving.
type flight struct {
	done    chan struct{}
	err     error // set before done is closed
	waiters int   // guarded by Cache.mu
	cancel  context.CancelFunc
	ready   chan struct{} // closed once fill is set (never when the fetch fails first)
	fill    *fill         // guarded by Cache.mu
	lazy    atomic.Bool
}

// isLazy reports whether a reader depends on the flight.
func (f *flight) isLazy() bool { return f.lazy.Load() }

// ready publishes the fill of a flight to its readers.
func (c *Cache) ready(f *flight, fl *fill) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.fill = fl
	close(f.ready)
}

// Base returns the local path of a snapshot's raw base image, fetching it
// once: written to a temp file in Dir, every chunk verified, fsynced, then
// renamed to <Dir>/<snapshot-id>.raw and made read-only. Concurrent callers
// for one snapshot share one fetch; a caller whose ctx ends stops waiting,
// and the fetch is cancelled when no caller waits for it any more.
func (c *Cache) Base(ctx context.Context, snapshotID string) (string, error) {
	path, err := c.basePath(snapshotID)
	if err != nil {
		return "", err
	}
	if ok, err := regularFile(path); ok || err != nil {
		return path, err
	}
	f := c.join(ctx, snapshotID)
	select {
	case <-f.done:
		if f.err != nil {
			return "", f.err
		}
		return path, nil
	case <-ctx.Done():
		c.leave(snapshotID, f)
		return "", fmt.Errorf("image cache: base %s: %w", snapshotID, context.Cause(ctx))
	}
}

// join returns the fetch in flight for id, starting one if there is none.
func (c *Cache) join(ctx context.Context, id string) *flight {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.flights[id]; ok {
		f.waiters++
		return f
	}
	f := c.start(ctx, id)
	f.waiters = 1
	return f
}

// start runs a new flight for id; c.mu must be held.
func (c *Cache) start(ctx context.Context, id string) *flight {
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &flight{done: make(chan struct{}), cancel: cancel, ready: make(chan struct{})}
	if c.flights == nil {
		c.flights = map[string]*flight{}
	}
	c.flights[id] = f
	go c.run(fctx, id, f)
	return f
}

// run fetches id for f and wakes its waiters.
func (c *Cache) run(ctx context.Context, id string, f *flight) {
	defer f.cancel()
	f.err = c.fetch(ctx, id, f)
	c.mu.Lock()
	if c.flights[id] == f {
		delete(c.flights, id)
	}
	c.mu.Unlock()
	close(f.done)
}

// leave drops a waiter; the last one out cancels the fetch, and later
// callers start a fresh one.
func (c *Cache) leave(id string, f *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.waiters--
	if f.waiters > 0 || f.lazy.Load() {
		return
	}
	f.cancel()
	if c.flights[id] == f {
		delete(c.flights, id)
	}
}

// inFlight reports whether a fetch of id is running.
func (c *Cache) inFlight(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.flights[id]
	return ok
}

// pin keeps Prune off id's base until the returned func is called.
func (c *Cache) pin(id string) (unpin func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pins == nil {
		c.pins = map[string]int{}
	}
	c.pins[id]++
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.pins[id]--; c.pins[id] == 0 {
			delete(c.pins, id)
		}
	}
}

// busy reports whether id's base is being fetched or built on.
func (c *Cache) busy(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.flights[id]
	return ok || c.pins[id] > 0
}
