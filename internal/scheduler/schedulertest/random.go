package schedulertest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/kumo-cloud/kumo/internal/scheduler"
)

// Zones are the zones RandomNodes spreads nodes over.
func Zones() []string { return []string{"kumo-1a", "kumo-1b", "kumo-1c"} }

// RandomNodes returns n nodes over Zones with varied sizes, some already
// partly used, and about one in ten not ready or stale at Now.
func RandomNodes(rng *rand.Rand, n int) []scheduler.Node {
	sizes := []scheduler.Resources{
		{VCPUs: 16, MemoryMiB: 64 << 10, DiskGiB: 1000},
		{VCPUs: 32, MemoryMiB: 128 << 10, DiskGiB: 2000},
		{VCPUs: 64, MemoryMiB: 256 << 10, DiskGiB: 4000},
	}
	zones := Zones()
	nodes := make([]scheduler.Node, n)
	for i := range nodes {
		s := sizes[rng.IntN(len(sizes))]
		node := Node(fmt.Sprintf("node-%04d", i), zones[i%len(zones)], s.VCPUs, s.MemoryMiB, s.DiskGiB)
		frac := rng.Int64N(4) // 0..3 quarters in use
		node.Allocated = scheduler.Resources{
			VCPUs:     s.VCPUs * int(frac) / 4,
			MemoryMiB: s.MemoryMiB * frac / 4,
			DiskGiB:   s.DiskGiB * frac / 4,
		}
		nodes[i] = unhealthy(rng, node)
	}
	return nodes
}

func unhealthy(rng *rand.Rand, n scheduler.Node) scheduler.Node {
	switch rng.IntN(40) {
	case 0:
		n.State = scheduler.NodeDraining
	case 1:
		n.State = scheduler.NodeDown
	case 2:
		n.State = scheduler.NodeRemoved
	case 3:
		n.LastSeen = Now().Add(-time.Hour)
	}
	return n
}

// RandomRequests returns n requests of EC2-like sizes; some are bound to
// a zone and most belong to one of a few spread groups.
func RandomRequests(rng *rand.Rand, n int) []scheduler.Request {
	sizes := []scheduler.Resources{
		{VCPUs: 1, MemoryMiB: 512, DiskGiB: 8},
		{VCPUs: 2, MemoryMiB: 1024, DiskGiB: 8},
		{VCPUs: 2, MemoryMiB: 4096, DiskGiB: 20},
		{VCPUs: 4, MemoryMiB: 16384, DiskGiB: 50},
		{VCPUs: 8, MemoryMiB: 32768, DiskGiB: 100},
	}
	zones := append(Zones(), "")
	reqs := make([]scheduler.Request, n)
	for i := range reqs {
		reqs[i] = scheduler.Request{
			InstanceID: fmt.Sprintf("i-%017x", i),
			Zone:       zones[rng.IntN(len(zones))],
			Need:       sizes[rng.IntN(len(sizes))],
		}
		if g := rng.IntN(12); g < 10 {
			reqs[i].SpreadKey = fmt.Sprintf("r-%d", g)
		}
	}
	return reqs
}
