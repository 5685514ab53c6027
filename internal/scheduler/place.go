package scheduler

import (
	"cmp"
	"slices"
)

// Place assigns requests to nodes. It is deterministic: the same nodes,
// requests and options, in any order, give the same Result. It does not
// modify its arguments.
func Place(nodes []Node, reqs []Request, opts Options) Result {
	c := newCluster(nodes, opts)
	valid, res := validate(reqs)
	for _, r := range valid {
		s, reason := c.choose(r)
		if s == nil {
			res.Unplaced = append(res.Unplaced, Unplaced{InstanceID: r.InstanceID, Reason: reason})
			continue
		}
		s.commit(r)
		res.Placements = append(res.Placements, Placement{InstanceID: r.InstanceID, NodeID: s.id})
	}
	if opts.AllOrNothing && len(res.Placements) < minimum(opts, len(reqs)) {
		res = rollBack(res)
	}
	sortResult(&res)
	return res
}

// validate returns the well-formed requests in placement order, and a
// Result holding the rejected ones. A duplicated instance id rejects
// every copy, so the outcome does not depend on input order.
func validate(reqs []Request) ([]Request, Result) {
	count := make(map[string]int, len(reqs))
	for _, r := range reqs {
		count[r.InstanceID]++
	}
	var res Result
	valid := make([]Request, 0, len(reqs))
	for _, r := range reqs {
		if r.InstanceID == "" || count[r.InstanceID] > 1 || r.Need.negative() {
			res.Unplaced = append(res.Unplaced, Unplaced{InstanceID: r.InstanceID, Reason: ReasonInvalidRequest})
			continue
		}
		valid = append(valid, r)
	}
	slices.SortFunc(valid, placementOrder)
	return valid, res
}

// placementOrder puts the most constrained requests first: pinned, then
// zone-bound, then larger before smaller, then by instance id.
func placementOrder(a, b Request) int {
	return cmp.Or(
		-cmp.Compare(boolInt(a.Pinned != ""), boolInt(b.Pinned != "")),
		-cmp.Compare(boolInt(a.Zone != ""), boolInt(b.Zone != "")),
		-cmp.Compare(a.Need.VCPUs, b.Need.VCPUs),
		-cmp.Compare(a.Need.MemoryMiB, b.Need.MemoryMiB),
		-cmp.Compare(a.Need.DiskGiB, b.Need.DiskGiB),
		cmp.Compare(a.InstanceID, b.InstanceID),
	)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// minimum is how many requests an all-or-nothing call must place.
func minimum(opts Options, n int) int {
	if opts.MinCount > 0 {
		return opts.MinCount
	}
	return n
}

// rollBack undoes every placement of a batch that missed its minimum.
func rollBack(res Result) Result {
	out := Result{Unplaced: res.Unplaced}
	for _, p := range res.Placements {
		out.Unplaced = append(out.Unplaced, Unplaced{InstanceID: p.InstanceID, Reason: ReasonBatchMinimumNotMet})
	}
	return out
}

func sortResult(res *Result) {
	slices.SortFunc(res.Placements, func(a, b Placement) int {
		return cmp.Or(cmp.Compare(a.InstanceID, b.InstanceID), cmp.Compare(a.NodeID, b.NodeID))
	})
	slices.SortFunc(res.Unplaced, func(a, b Unplaced) int {
		return cmp.Or(cmp.Compare(a.InstanceID, b.InstanceID), cmp.Compare(a.Reason, b.Reason))
	})
}
