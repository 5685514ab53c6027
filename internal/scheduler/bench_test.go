package scheduler_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/scheduler"
	st "github.com/kumo-cloud/kumo/internal/scheduler/schedulertest"
)

// BenchmarkPlace places 1,000 requests over 200 nodes per operation: on
// a cluster with room for all of them, and on one of small nodes where
// about three in four requests scan every node and fail.
func BenchmarkPlace(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	reqs := st.RandomRequests(rng, 1000)
	roomy := st.RandomNodes(rng, 200)
	full := make([]scheduler.Node, 200)
	for i := range full {
		full[i] = roomy[i]
		full[i].VCPUs, full[i].MemoryMiB = 8, 32<<10
		full[i].Allocated = scheduler.Resources{}
	}
	opts := scheduler.Options{Now: st.Now(), StaleAfter: time.Minute, VCPUOvercommit: 2}
	b.Run("roomy", func(b *testing.B) { benchPlace(b, roomy, reqs, opts) })
	b.Run("saturated", func(b *testing.B) { benchPlace(b, full, reqs, opts) })
}

func benchPlace(b *testing.B, nodes []scheduler.Node, reqs []scheduler.Request, opts scheduler.Options) {
	var placed int
	b.ReportAllocs()
	for b.Loop() {
		placed = len(scheduler.Place(nodes, reqs, opts).Placements)
	}
	b.ReportMetric(float64(placed), "placed/op")
}
