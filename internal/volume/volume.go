// Package volume is a node's side of EBS volumes: where a volume's bytes
// live (a Backend: a file on the node, or a Ceph RBD image) and how QEMU
// opens them. What to attach where is the server's (nodeapi.Desired).
package volume

import (
	"context"
	"errors"
)

// ErrNotFound: the backend holds no volume of that id.
var ErrNotFound = errors.New("volume not found")

// Backend stores volumes. Every method is idempotent and safe to repeat
// after a crash at any point.
type Backend interface {
	// Name is nodeapi.VolumeBackendLocal or nodeapi.VolumeBackendRBD.
	Name() string
	// Create makes a zero-filled volume of exactly size bytes. An
	// existing volume of that id is kept as it is.
	Create(ctx context.Context, id string, size int64) error
	// Size is the volume's size in bytes (ErrNotFound when absent).
	Size(ctx context.Context, id string) (int64, error)
	// Grow makes the volume size bytes; it never shrinks one. A guest
	// that has it open learns the new size through QMP block_resize on
	// the node Blockdev named (the caller's job).
	Grow(ctx context.Context, id string, size int64) error
	// Delete removes the volume's data; absent is not an error.
	Delete(ctx context.Context, id string) error
	// List is every volume id the backend holds for this node.
	List(ctx context.Context) ([]string, error)
	// Blockdev is the QMP blockdev-add argument that opens the volume
	// read-write as the block node nodeName (format layer included).
	Blockdev(id, nodeName string) map[string]any
}
