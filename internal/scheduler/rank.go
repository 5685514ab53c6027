package scheduler

// rank orders candidate nodes for one request; lower is better.
type rank struct {
	spread int     // instances of the request's spread key already there
	load   float64 // dominant share of capacity after placing the request
}

func (a rank) less(b rank) bool {
	if a.spread != b.spread {
		return a.spread < b.spread
	}
	return a.load < b.load
}

func rankOf(s *slot, r Request) rank {
	var spread int
	if r.SpreadKey != "" {
		spread = s.spread[r.SpreadKey]
	}
	return rank{spread: spread, load: dominantShare(s.used.Add(r.Need), s.capacity)}
}

// choose picks the node for r, or says why there is none.
func (c *cluster) choose(r Request) (*slot, Reason) {
	if r.Pinned != "" {
		return c.choosePinned(r)
	}
	var best *slot
	var bestRank rank
	anyUsable, inZone := false, false
	for _, s := range c.slots { // ascending id: ties keep the lowest id
		if !s.usable {
			continue
		}
		anyUsable = true
		if r.Zone != "" && s.zone != r.Zone {
			continue
		}
		inZone = true
		if !s.fits(r.Need) {
			continue
		}
		if rk := rankOf(s, r); best == nil || rk.less(bestRank) {
			best, bestRank = s, rk
		}
	}
	switch {
	case best != nil:
		return best, ""
	case !anyUsable:
		return nil, ReasonNoReadyNode
	case !inZone:
		return nil, ReasonNoNodeInZone
	default:
		return nil, ReasonInsufficientCapacity
	}
}

func (c *cluster) choosePinned(r Request) (*slot, Reason) {
	s := c.byID[r.Pinned]
	switch {
	case s == nil || !s.usable:
		return nil, ReasonPinnedNodeUnavailable
	case r.Zone != "" && s.zone != r.Zone:
		return nil, ReasonNoNodeInZone
	case !s.fits(r.Need):
		return nil, ReasonInsufficientCapacity
	default:
		return s, ""
	}
}
