package schedulertest

import (
	"errors"
	"fmt"

	"github.com/kumo-cloud/kumo/internal/scheduler"
)

// Check verifies that res obeys the rules for nodes, reqs and opts:
// every request is answered exactly once, each placement is on a known,
// usable node in the right zone (and the pinned node when pinned), no
// node that received an instance ends over capacity, and an
// all-or-nothing call placed nothing or at least its minimum.
func Check(nodes []scheduler.Node, reqs []scheduler.Request, opts scheduler.Options, res scheduler.Result) error {
	byNode := make(map[string]scheduler.Node, len(nodes))
	for _, n := range nodes {
		byNode[n.ID] = n
	}
	byReq := make(map[string]scheduler.Request, len(reqs))
	for _, r := range reqs {
		byReq[r.InstanceID] = r
	}
	errs := []error{checkAnswered(reqs, res)}
	used := make(map[string]scheduler.Resources)
	for _, p := range res.Placements {
		n, r := byNode[p.NodeID], byReq[p.InstanceID]
		errs = append(errs, checkPlacement(p, n, r, opts))
		used[p.NodeID] = used[p.NodeID].Add(r.Need)
	}
	for id, u := range used {
		n := byNode[id]
		if total, limit := n.Allocated.Add(u), opts.Capacity(n); !total.Within(limit) {
			errs = append(errs, fmt.Errorf("node %s over capacity: %+v > %+v", id, total, limit))
		}
	}
	errs = append(errs, checkMinimum(len(reqs), opts, res))
	return errors.Join(errs...)
}

func checkAnswered(reqs []scheduler.Request, res scheduler.Result) error {
	seen := make(map[string]int)
	for _, p := range res.Placements {
		seen[p.InstanceID]++
	}
	for _, u := range res.Unplaced {
		seen[u.InstanceID]++
	}
	want := make(map[string]int)
	for _, r := range reqs {
		want[r.InstanceID]++
	}
	var errs []error
	for id, n := range want {
		if seen[id] != n {
			errs = append(errs, fmt.Errorf("instance %q answered %d times, want %d", id, seen[id], n))
		}
	}
	for id := range seen {
		if want[id] == 0 {
			errs = append(errs, fmt.Errorf("instance %q answered but never requested", id))
		}
	}
	return errors.Join(errs...)
}

func checkPlacement(p scheduler.Placement, n scheduler.Node, r scheduler.Request, opts scheduler.Options) error {
	switch {
	case n.ID == "":
		return fmt.Errorf("%s placed on unknown node %q", p.InstanceID, p.NodeID)
	case !opts.Usable(n):
		return fmt.Errorf("%s placed on unusable node %s (%s)", p.InstanceID, n.ID, n.State)
	case r.Zone != "" && n.Zone != r.Zone:
		return fmt.Errorf("%s wants zone %s, placed in %s", p.InstanceID, r.Zone, n.Zone)
	case r.Pinned != "" && n.ID != r.Pinned:
		return fmt.Errorf("%s pinned to %s, placed on %s", p.InstanceID, r.Pinned, n.ID)
	}
	return nil
}

func checkMinimum(n int, opts scheduler.Options, res scheduler.Result) error {
	if !opts.AllOrNothing || len(res.Placements) == 0 {
		return nil
	}
	want := n
	if opts.MinCount > 0 {
		want = opts.MinCount
	}
	if len(res.Placements) < want {
		return fmt.Errorf("all-or-nothing placed %d, minimum %d", len(res.Placements), want)
	}
	return nil
}
