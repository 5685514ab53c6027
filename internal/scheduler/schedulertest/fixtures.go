// Package schedulertest runs the scheduler against hand-made snapshots:
// fixtures for nodes and requests, a Harness that records every plan and
// applies it to its snapshot, and Check, which verifies a Result against
// the rules every placement must obey.
package schedulertest

import (
	"time"

	"github.com/kumo-cloud/kumo/internal/scheduler"
)

// Now is the fixed instant fixtures and harnesses treat as the present.
func Now() time.Time {
	return time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC)
}

// Node returns a ready node last seen at Now, with nothing allocated.
func Node(id, zone string, vcpus int, memoryMiB, diskGiB int64) scheduler.Node {
	return scheduler.Node{
		ID:        id,
		Zone:      zone,
		VCPUs:     vcpus,
		MemoryMiB: memoryMiB,
		DiskGiB:   diskGiB,
		State:     scheduler.NodeReady,
		LastSeen:  Now(),
	}
}

// Req returns a request for any zone, with no spread key and no pin.
func Req(id string, vcpus int, memoryMiB, diskGiB int64) scheduler.Request {
	return scheduler.Request{
		InstanceID: id,
		Need:       scheduler.Resources{VCPUs: vcpus, MemoryMiB: memoryMiB, DiskGiB: diskGiB},
	}
}

// Small is a t3.micro-sized request with an 8 GiB root disk.
func Small(id string) scheduler.Request { return Req(id, 2, 1024, 8) }

// InZone returns r bound to zone.
func InZone(r scheduler.Request, zone string) scheduler.Request {
	r.Zone = zone
	return r
}

// Spread returns r with spread key key.
func Spread(r scheduler.Request, key string) scheduler.Request {
	r.SpreadKey = key
	return r
}

// Pinned returns r pinned to node.
func Pinned(r scheduler.Request, node string) scheduler.Request {
	r.Pinned = node
	return r
}

// WithState returns n in state s.
func WithState(n scheduler.Node, s scheduler.NodeState) scheduler.Node {
	n.State = s
	return n
}

// SeenAt returns n last seen at t.
func SeenAt(n scheduler.Node, t time.Time) scheduler.Node {
	n.LastSeen = t
	return n
}

// WithAllocated returns n with a already in use.
func WithAllocated(n scheduler.Node, a scheduler.Resources) scheduler.Node {
	n.Allocated = a
	return n
}
