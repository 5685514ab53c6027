package scheduler

import (
	"cmp"
	"slices"
)

// slot is the scheduler's working copy of one node during a Place call.
type slot struct {
	id       string
	zone     string
	usable   bool
	capacity Resources
	used     Resources
	spread   map[string]int
}

// cluster holds the slots of one Place call, sorted by node id.
type cluster struct {
	slots []*slot
	byID  map[string]*slot
}

// newCluster copies nodes into slots. Nodes whose id is empty or appears
// more than once are kept out of use: such a snapshot is corrupt and
// which copy is right cannot be known.
func newCluster(nodes []Node, opts Options) *cluster {
	c := &cluster{byID: make(map[string]*slot, len(nodes))}
	dup := make(map[string]bool)
	for _, n := range nodes {
		if _, seen := c.byID[n.ID]; seen {
			dup[n.ID] = true
			continue
		}
		s := newSlot(n, opts)
		c.slots = append(c.slots, s)
		c.byID[n.ID] = s
	}
	for _, s := range c.slots {
		if s.id == "" || dup[s.id] {
			s.usable = false
		}
	}
	slices.SortFunc(c.slots, func(a, b *slot) int { return cmp.Compare(a.id, b.id) })
	return c
}

func newSlot(n Node, opts Options) *slot {
	spread := make(map[string]int, len(n.Spread))
	for k, v := range n.Spread {
		spread[k] = v
	}
	return &slot{
		id:       n.ID,
		zone:     n.Zone,
		usable:   opts.Usable(n),
		capacity: opts.Capacity(n),
		used:     n.Allocated,
		spread:   spread,
	}
}

// fits reports whether need still fits on s.
func (s *slot) fits(need Resources) bool {
	return s.used.Add(need).Within(s.capacity)
}

// commit records r as placed on s, so later requests see its use.
func (s *slot) commit(r Request) {
	s.used = s.used.Add(r.Need)
	if r.SpreadKey != "" {
		s.spread[r.SpreadKey]++
	}
}
