package imagecache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/kumo-cloud/kumo/internal/nbd"
)

// Export is where QEMU reads a snapshot's volume while its base is being
// filled: an export of the cache's NBD server, named after the snapshot.
type Export struct {
	Socket string // absolute path of the cache's NBD unix socket
	Name   string // the snapshot id
}

// socketName is the NBD server's socket in Dir.
const socketName = "nbd.sock"

// maxSocketPath is the room in sockaddr_un for a path, less its NUL.
const maxSocketPath = 107

// ServeNBD serves every base over NBD (read-only, export name = snapshot
// id) on <Dir>/nbd.sock until ctx ends: a complete base from its file; one
// being filled from its fill, fetching first the chunks a reader asks for;
// and for any other snapshot it starts the fill (a guest started by an
// earlier agent reconnecting). While it runs, LazyRootDisk makes root
// disks without waiting for their base.
func (c *Cache) ServeNBD(ctx context.Context) error {
	done, err := c.StartNBD(ctx)
	if err != nil {
		return err
	}
	return <-done
}

// StartNBD is ServeNBD in the background: once it returns, LazyRootDisk
// serves; done gives Serve's end (nil when ctx ended).
func (c *Cache) StartNBD(ctx context.Context) (done <-chan error, err error) {
	dir, err := c.dir()
	if err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, socketName)
	if len(sock) > maxSocketPath {
		return nil, fmt.Errorf("image cache: socket %s: path too long for a unix socket", sock)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("image cache: %w", err)
	}
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("image cache: %w", err)
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("image cache: %w", err)
	}
	c.setServing(ctx, sock)
	ch := make(chan error, 1)
	go func() {
		defer c.setServing(nil, "")
		srv := &nbd.Server{Open: c.openExport, Logger: c.log()}
		ch <- srv.Serve(ctx, l)
	}()
	return ch, nil
}

func (c *Cache) setServing(ctx context.Context, sock string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.serving, c.socket = ctx, sock
}

// openExport resolves an NBD client's export name (nbd.Server.Open).
func (c *Cache) openExport(ctx context.Context, name string) (nbd.Export, func(), error) {
	path, err := c.basePath(name)
	if err != nil {
		return nil, nil, err
	}
	for {
		f, err := c.joinLazy(name, path)
		if err != nil {
			return nil, nil, err
		}
		if f == nil {
			return openBase(path)
		}
		fl, err := c.awaitFill(ctx, f)
		if err != nil {
			return nil, nil, err
		}
		if fl.acquire() {
			return fl, fl.release, nil
		}
		<-f.done // finished and closed: published (or failed) just now
		if f.err != nil {
			return nil, nil, f.err
		}
	}
}

// awaitFill waits until a flight's fill exists (its manifest is read).
func (c *Cache) awaitFill(ctx context.Context, f *flight) (*fill, error) {
	select {
	case <-f.ready:
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		<-f.ready // done without error means it was ready
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return f.fill, nil
}

// joinLazy returns id's flight, made lazy (started if needed), or nil when
// the base at path is complete. It fails with errNotServing when a fill
// would have to start and the cache is not serving NBD.
func (c *Cache) joinLazy(id, path string) (*flight, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.flights[id]
	if !ok {
		if ok, err := regularFile(path); ok || err != nil {
			return nil, err
		}
		if c.serving == nil {
			return nil, errNotServing
		}
		f = c.start(c.serving, id)
	}
	if c.serving == nil {
		return nil, errNotServing
	}
	if !f.lazy.Swap(true) {
		// No longer cancelled when its waiters leave: when serving ends.
		context.AfterFunc(c.serving, f.cancel)
	}
	return f, nil
}

// LazyRootDisk is RootDisk without waiting for the base. When the base is
// not complete and the cache serves NBD (ServeNBD), the overlay is made at
// once on the base's path (which exists once the base is complete), the
// base is filled in the background, and the returned Export is where QEMU
// must read the image meanwhile (qemu.Disk's Backing). With a complete
// base, or when not serving, it is RootDisk and returns nil.
func (c *Cache) LazyRootDisk(ctx context.Context, snapshotID, path string, sizeGiB int64) (*Export, error) {
	base, err := c.basePath(snapshotID)
	if err != nil {
		return nil, err
	}
	defer c.pin(snapshotID)()
	f, err := c.joinLazy(snapshotID, base)
	if f == nil || errors.Is(err, errNotServing) {
		return nil, c.RootDisk(ctx, snapshotID, path, sizeGiB)
	}
	if err != nil {
		return nil, fmt.Errorf("root disk %s: %w", path, err)
	}
	if sizeGiB < 0 || sizeGiB > maxSizeGiB {
		return nil, fmt.Errorf("root disk %s: size %d GiB: out of range", path, sizeGiB)
	}
	fl, err := c.awaitFill(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("root disk %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("root disk %s: %w", path, err)
	}
	if err := c.overlay(ctx, base, abs, max(sizeGiB*gib, fl.Size())); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return &Export{Socket: c.socket, Name: snapshotID}, nil
}

// Complete returns the path of snapshotID's base when it is complete;
// otherwise, when the cache serves NBD, it makes sure the base is being
// filled (a guest left reading over NBD by an earlier agent may not have
// reconnected yet, having read nothing since).
func (c *Cache) Complete(snapshotID string) (string, bool) {
	path, err := c.basePath(snapshotID)
	if err != nil {
		return "", false
	}
	if ok, _ := regularFile(path); ok {
		return path, true
	}
	if _, err := c.joinLazy(snapshotID, path); err != nil && !errors.Is(err, errNotServing) {
		c.log().Warn("image cache: fill", "snapshot", snapshotID, "err", err)
	}
	return path, false
}

// baseExport is a complete base served over NBD.
type baseExport struct {
	*os.File
	size int64
}

func (b baseExport) Size() int64 { return b.size }

func openBase(path string) (nbd.Export, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("image cache: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("image cache: %w", err)
	}
	return baseExport{f, fi.Size()}, func() { f.Close() }, nil
}
