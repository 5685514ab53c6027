package imagecache

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// waiters is how many callers wait for id's fetch.
func (c *Cache) waiters(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.flights[id]; ok {
		return f.waiters
	}
	return 0
}

// Eight concurrent callers share one fetch: each chunk is read once.
func TestBaseFetchOnce(t *testing.T) {
	c, objs, _ := newCache(t)
	data := pattern(10*testChunk+512, 7)
	m := putSnapshot(t, c, "snap-1", bytes.NewReader(data), int64(len(data)))
	objs.gate = make(chan struct{})
	const callers = 8
	paths, errs := make([]string, callers), make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { paths[i], errs[i] = c.Base(t.Context(), "snap-1") })
	}
	waitFor(t, func() bool { return c.waiters("snap-1") == callers })
	close(objs.gate)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || paths[i] != paths[0] {
			t.Fatalf("caller %d: %q, %v", i, paths[i], errs[i])
		}
	}
	if got := objs.chunkGets.Load(); got != int64(len(m.Chunks)) {
		t.Errorf("%d chunk reads, want %d", got, len(m.Chunks))
	}
	checkBase(t, paths[0], data)
	if _, err := c.Base(t.Context(), "snap-1"); err != nil || objs.chunkGets.Load() != int64(len(m.Chunks)) {
		t.Errorf("cached Base read the store again (%v)", err)
	}
}

// checkBase: complete, read-only, named after the snapshot.
func checkBase(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("base %s: %d bytes (%v), want the snapshot's %d", path, len(got), err, len(want))
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm()&0o222 != 0 || filepath.Base(path) != "snap-1.raw" {
		t.Errorf("base %s mode %v", path, fi.Mode())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// A chunk whose bytes do not match its hash fails the fetch and leaves
// nothing in the cache.
func TestBaseCorruptChunk(t *testing.T) {
	c, objs, _ := newCache(t)
	data := pattern(4*testChunk, 3)
	m := putSnapshot(t, c, "snap-1", bytes.NewReader(data), int64(len(data)))
	key := "chunks/" + m.Chunks[2].String()[:2] + "/" + m.Chunks[2].String()
	bad := bytes.Repeat([]byte{0xee}, testChunk)
	if err := objs.Put(t.Context(), key, bytes.NewReader(bad), int64(len(bad))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Base(t.Context(), "snap-1"); !errors.Is(err, snapshot.ErrCorrupt) {
		t.Fatalf("Base: %v, want ErrCorrupt", err)
	}
	if names := cacheFiles(t, c); len(names) != 0 {
		t.Errorf("cache holds %v after a failed fetch", names)
	}
}

// A temp file left by a crash is ignored and removed by the next fetch.
func TestBaseCrashLeftover(t *testing.T) {
	c, _, _ := newCache(t)
	data := pattern(3*testChunk, 5)
	putSnapshot(t, c, "snap-1", bytes.NewReader(data), int64(len(data)))
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(c.Dir, tempPrefix+"snap-1-12345")
	if err := os.WriteFile(leftover, []byte("half a disk"), 0o600); err != nil {
		t.Fatal(err)
	}
	path, err := c.Base(t.Context(), "snap-1")
	if err != nil {
		t.Fatal(err)
	}
	checkBase(t, path, data)
	if names := cacheFiles(t, c); len(names) != 1 {
		t.Errorf("cache holds %v, want only the base", names)
	}
}

// A caller that gives up does not cancel the fetch others wait for; when
// the last one gives up, the fetch stops and leaves nothing behind.
func TestBaseCancel(t *testing.T) {
	c, objs, _ := newCache(t)
	data := pattern(3*testChunk, 9)
	putSnapshot(t, c, "snap-1", bytes.NewReader(data), int64(len(data)))
	objs.gate = make(chan struct{})
	quitter, quit := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { _, err := c.Base(quitter, "snap-1"); errc <- err }()
	waitFor(t, func() bool { return c.waiters("snap-1") == 1 })
	stayc := make(chan error, 1)
	go func() { _, err := c.Base(t.Context(), "snap-1"); stayc <- err }()
	waitFor(t, func() bool { return c.waiters("snap-1") == 2 })
	quit()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("quitter: %v", err)
	}
	close(objs.gate)
	if err := <-stayc; err != nil {
		t.Fatalf("the other caller: %v", err)
	}
	if err := os.Remove(filepath.Join(c.Dir, "snap-1.raw")); err != nil {
		t.Fatal(err)
	}
	objs.gate = make(chan struct{})
	alone, cancel := context.WithCancel(t.Context())
	reads := objs.chunkGets.Load()
	go func() { _, err := c.Base(alone, "snap-1"); errc <- err }()
	waitFor(t, func() bool { return objs.chunkGets.Load() > reads }) // the temp file exists
	cancel()
	<-errc
	waitFor(t, func() bool { return len(cacheFiles(t, c)) == 0 })
}

func TestBaseBadID(t *testing.T) {
	c, _, _ := newCache(t)
	for _, id := range []string{"", "../x", ".hidden", "a/b"} {
		if _, err := c.Base(t.Context(), id); err == nil {
			t.Errorf("Base(%q) succeeded", id)
		}
	}
}
