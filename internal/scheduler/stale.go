package scheduler

import (
	"slices"
	"time"
)

// MarkStale returns, sorted, the ids of ready or draining nodes that
// have not reported for longer than after: the nodes the controller's
// node monitor should mark down. A node never seen (zero LastSeen) is
// stale. after <= 0 disables the check and returns nil.
func MarkStale(nodes []Node, now time.Time, after time.Duration) (stale []string) {
	if after <= 0 {
		return nil
	}
	for _, n := range nodes {
		live := n.State == NodeReady || n.State == NodeDraining
		if live && isStale(n.LastSeen, now, after) {
			stale = append(stale, n.ID)
		}
	}
	slices.Sort(stale)
	return stale
}

// isStale reports whether lastSeen is more than after before now.
func isStale(lastSeen, now time.Time, after time.Duration) bool {
	return now.Sub(lastSeen) > after
}

// Usable reports whether n may receive new instances under o: it is
// ready and, when o checks staleness, not stale.
func (o Options) Usable(n Node) bool {
	if n.State != NodeReady {
		return false
	}
	if o.StaleAfter <= 0 || o.Now.IsZero() {
		return true
	}
	return !isStale(n.LastSeen, o.Now, o.StaleAfter)
}
