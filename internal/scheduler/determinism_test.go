package scheduler_test

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/scheduler"
	st "github.com/kumo-cloud/kumo/internal/scheduler/schedulertest"
)

func randomOpts(rng *rand.Rand) scheduler.Options {
	return scheduler.Options{
		Now:            st.Now(),
		StaleAfter:     time.Minute,
		VCPUOvercommit: []float64{1, 1.5, 4}[rng.IntN(3)],
		AllOrNothing:   rng.IntN(4) == 0,
		MinCount:       rng.IntN(50),
	}
}

// TestPlaceDeterministic shuffles nodes and requests and expects the
// same Result every time.
func TestPlaceDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 10 {
		nodes := st.RandomNodes(rng, 40)
		reqs := st.RandomRequests(rng, 300)
		opts := randomOpts(rng)
		want := scheduler.Place(nodes, reqs, opts)
		for range 10 {
			rng.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
			rng.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
			if got := scheduler.Place(nodes, reqs, opts); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d: shuffled input changed the result", round)
			}
		}
	}
}

// TestPlaceRandomClusters runs random snapshots through the harness,
// whose Check fails the test on any rule broken, several calls in a row.
func TestPlaceRandomClusters(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	placed := 0
	for range 20 {
		h := st.New(t, randomOpts(rng), st.RandomNodes(rng, 30)...)
		for range 5 {
			placed += len(h.Place(st.RandomRequests(rng, 100)...).Placements)
		}
	}
	if placed == 0 {
		t.Fatal("random clusters placed nothing; the generator is broken")
	}
}

// TestCheckCatchesViolations makes sure the harness's oracle is not
// vacuous.
func TestCheckCatchesViolations(t *testing.T) {
	nodes := []scheduler.Node{
		st.Node("n1", "a", 2, 2048, 100),
		st.WithState(st.Node("dn", "a", 8, 8192, 100), scheduler.NodeDown),
	}
	reqs := []scheduler.Request{st.Small("i-1"), st.InZone(st.Small("i-2"), "b"), st.Small("i-3")}
	bad := []scheduler.Result{
		{Placements: []scheduler.Placement{{InstanceID: "i-1", NodeID: "n1"}}},
		{Placements: []scheduler.Placement{{"i-1", "n1"}, {"i-2", "n1"}, {"i-3", "n1"}}},
		{Placements: []scheduler.Placement{{"i-1", "dn"}}, Unplaced: []scheduler.Unplaced{{"i-2", "x"}, {"i-3", "x"}}},
		{Placements: []scheduler.Placement{{"i-1", "nx"}}, Unplaced: []scheduler.Unplaced{{"i-2", "x"}, {"i-3", "x"}}},
		{Placements: []scheduler.Placement{{"i-1", "n1"}, {"i-9", "n1"}}, Unplaced: []scheduler.Unplaced{{"i-2", "x"}, {"i-3", "x"}}},
	}
	for i, res := range bad {
		if err := st.Check(nodes, reqs, scheduler.Options{}, res); err == nil {
			t.Errorf("bad result %d passed Check", i)
		}
	}
	partial := scheduler.Result{
		Placements: []scheduler.Placement{{"i-1", "n1"}},
		Unplaced:   []scheduler.Unplaced{{"i-2", "x"}, {"i-3", "x"}},
	}
	if err := st.Check(nodes, reqs, scheduler.Options{}, partial); err != nil {
		t.Errorf("valid best-effort result failed Check: %v", err)
	}
	if err := st.Check(nodes, reqs, scheduler.Options{AllOrNothing: true}, partial); err == nil {
		t.Error("partial all-or-nothing result passed Check")
	}
}
