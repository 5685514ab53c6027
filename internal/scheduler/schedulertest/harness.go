package schedulertest

import (
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/kumo-cloud/kumo/internal/scheduler"
)

// Plan is one recorded Place call.
type Plan struct {
	Requests []scheduler.Request
	Options  scheduler.Options
	Result   scheduler.Result
}

// Harness holds a snapshot of nodes, runs Place against it, checks and
// records each Result, and applies placements to the snapshot as a
// controller that commits every plan would.
type Harness struct {
	T     testing.TB
	Nodes []scheduler.Node
	Opts  scheduler.Options
	Plans []Plan
}

// New returns a harness over nodes. opts.Now defaults to Now().
func New(t testing.TB, opts scheduler.Options, nodes ...scheduler.Node) *Harness {
	if opts.Now.IsZero() {
		opts.Now = Now()
	}
	return &Harness{T: t, Nodes: CloneNodes(nodes), Opts: opts}
}

// Place runs the scheduler on the harness's snapshot. It fails the test
// if Place modifies its input or breaks a rule Check knows.
func (h *Harness) Place(reqs ...scheduler.Request) scheduler.Result {
	h.T.Helper()
	nodes, in := CloneNodes(h.Nodes), slices.Clone(reqs)
	res := scheduler.Place(nodes, in, h.Opts)
	if !reflect.DeepEqual(nodes, h.Nodes) || !reflect.DeepEqual(in, reqs) {
		h.T.Fatalf("Place modified its input")
	}
	if err := Check(h.Nodes, reqs, h.Opts, res); err != nil {
		h.T.Fatalf("plan breaks the rules:\n%v", err)
	}
	h.Plans = append(h.Plans, Plan{Requests: slices.Clone(reqs), Options: h.Opts, Result: res})
	h.apply(reqs, res)
	return res
}

// apply adds each placed request's resources and spread key to its node.
func (h *Harness) apply(reqs []scheduler.Request, res scheduler.Result) {
	byID := make(map[string]scheduler.Request, len(reqs))
	for _, r := range reqs {
		byID[r.InstanceID] = r
	}
	for _, p := range res.Placements {
		r := byID[p.InstanceID]
		i := slices.IndexFunc(h.Nodes, func(n scheduler.Node) bool { return n.ID == p.NodeID })
		n := &h.Nodes[i]
		n.Allocated = n.Allocated.Add(r.Need)
		if r.SpreadKey != "" {
			if n.Spread == nil {
				n.Spread = make(map[string]int)
			}
			n.Spread[r.SpreadKey]++
		}
	}
}

// Node returns the snapshot's node id; it fails the test if absent.
func (h *Harness) Node(id string) scheduler.Node {
	h.T.Helper()
	i := slices.IndexFunc(h.Nodes, func(n scheduler.Node) bool { return n.ID == id })
	if i < 0 {
		h.T.Fatalf("no node %q in the snapshot", id)
	}
	return h.Nodes[i]
}

// CloneNodes deep-copies nodes, Spread maps included.
func CloneNodes(nodes []scheduler.Node) []scheduler.Node {
	out := slices.Clone(nodes)
	for i := range out {
		if out[i].Spread != nil {
			out[i].Spread = maps.Clone(out[i].Spread)
		}
	}
	return out
}

// Assignments maps instance id to node id for the placements of res.
func Assignments(res scheduler.Result) map[string]string {
	out := make(map[string]string, len(res.Placements))
	for _, p := range res.Placements {
		out[p.InstanceID] = p.NodeID
	}
	return out
}

// Reasons maps instance id to reason for the unplaced requests of res.
func Reasons(res scheduler.Result) map[string]scheduler.Reason {
	out := make(map[string]scheduler.Reason, len(res.Unplaced))
	for _, u := range res.Unplaced {
		out[u.InstanceID] = u.Reason
	}
	return out
}

// Count tallies placements per node id.
func Count(res scheduler.Result) map[string]int {
	out := make(map[string]int)
	for _, p := range res.Placements {
		out[p.NodeID]++
	}
	return out
}
