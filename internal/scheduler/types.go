package scheduler

import "time"

// NodeState is the operator-visible lifecycle state of a hypervisor node.
type NodeState string

// Node states. Only NodeReady nodes receive new instances.
const (
	NodeReady    NodeState = "ready"
	NodeDraining NodeState = "draining"
	NodeDown     NodeState = "down"
	NodeRemoved  NodeState = "removed"
)

// Resources is an amount of vCPU, memory and disk.
type Resources struct {
	VCPUs     int
	MemoryMiB int64
	DiskGiB   int64
}

// Node is one hypervisor host as the scheduler sees it.
type Node struct {
	ID    string
	Zone  string
	VCPUs int
	// MemoryMiB and DiskGiB are the node's physical capacity; Options
	// decides how much of it may be promised to instances.
	MemoryMiB int64
	DiskGiB   int64
	// Allocated is what instances already bound to the node consume. It
	// must not include the requests being placed.
	Allocated Resources
	// Spread counts instances already on the node per spread key, so a
	// group placed over several calls still spreads. Optional.
	Spread   map[string]int
	State    NodeState
	LastSeen time.Time
}

// Request asks for one instance to be placed.
type Request struct {
	InstanceID string
	// Zone restricts the placement to one availability zone; "" means any.
	Zone string
	Need Resources
	// SpreadKey groups instances (a reservation, a launch group) that
	// should land on distinct nodes when possible; "" means no grouping.
	SpreadKey string
	// Pinned names the only node the instance may go to (a restart that
	// must stay where its disks are); "" means any.
	Pinned string
}

// Placement binds one instance to one node.
type Placement struct {
	InstanceID string
	NodeID     string
}

// Reason says why a request was not placed.
type Reason string

// Reasons a request can stay unplaced.
const (
	// ReasonInsufficientCapacity: usable nodes exist where the request may
	// go, but none has room for it.
	ReasonInsufficientCapacity Reason = "InsufficientCapacity"
	// ReasonNoNodeInZone: no usable node in the requested zone.
	ReasonNoNodeInZone Reason = "NoNodeInZone"
	// ReasonNoReadyNode: no usable node anywhere.
	ReasonNoReadyNode Reason = "NoReadyNode"
	// ReasonPinnedNodeUnavailable: the pinned node is unknown, not ready
	// or stale.
	ReasonPinnedNodeUnavailable Reason = "PinnedNodeUnavailable"
	// ReasonInvalidRequest: empty or duplicated instance id, or a
	// negative amount of a resource.
	ReasonInvalidRequest Reason = "InvalidRequest"
	// ReasonBatchMinimumNotMet: the request could have been placed, but
	// the all-or-nothing batch it belongs to could not reach its minimum.
	ReasonBatchMinimumNotMet Reason = "BatchMinimumNotMet"
)

// Unplaced is a request that got no node, and why.
type Unplaced struct {
	InstanceID string
	Reason     Reason
}

// Result is the outcome of one Place call. Both lists are sorted by
// instance id; every request appears in exactly one of them.
type Result struct {
	Placements []Placement
	Unplaced   []Unplaced
}

// Options tunes one Place call. The zero value is valid: no overcommit,
// no staleness check, best effort.
type Options struct {
	// Now and StaleAfter judge staleness: a node whose LastSeen is more
	// than StaleAfter before Now is treated as down. Either left zero
	// turns the check off.
	Now        time.Time
	StaleAfter time.Duration
	// VCPUOvercommit and MemoryOvercommit multiply a node's vCPUs and
	// memory to give what may be promised; values <= 0 mean 1.0. Disk is
	// never overcommitted.
	VCPUOvercommit   float64
	MemoryOvercommit float64
	// AllOrNothing makes the call place nothing unless at least MinCount
	// requests are placed (all of them when MinCount <= 0), as EC2's
	// RunInstances does with MinCount. MinCount is ignored otherwise.
	AllOrNothing bool
	MinCount     int
}
