package scheduler_test

import (
	"maps"
	"testing"

	"github.com/kumo-cloud/kumo/internal/scheduler"
	st "github.com/kumo-cloud/kumo/internal/scheduler/schedulertest"
)

// placeCase is one scheduling scenario and the plan it must produce.
type placeCase struct {
	name     string
	opts     scheduler.Options
	nodes    []scheduler.Node
	reqs     []scheduler.Request
	placed   map[string]string           // instance id → node id
	unplaced map[string]scheduler.Reason // instance id → reason
}

func runCases(t *testing.T, cases []placeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := st.New(t, tc.opts, tc.nodes...)
			res := h.Place(tc.reqs...)
			if got := st.Assignments(res); !maps.Equal(got, tc.placed) {
				t.Errorf("placements:\n got  %v\n want %v", got, tc.placed)
			}
			if got := st.Reasons(res); !maps.Equal(got, tc.unplaced) {
				t.Errorf("unplaced:\n got  %v\n want %v", got, tc.unplaced)
			}
		})
	}
}

func TestPlaceCapacity(t *testing.T)  { runCases(t, capacityCases()) }
func TestPlaceZones(t *testing.T)     { runCases(t, zoneCases()) }
func TestPlaceSpread(t *testing.T)    { runCases(t, spreadCases()) }
func TestPlaceNodeState(t *testing.T) { runCases(t, nodeStateCases()) }
func TestPlacePinned(t *testing.T)    { runCases(t, pinnedCases()) }
func TestPlaceBatch(t *testing.T)     { runCases(t, batchCases()) }
func TestPlaceOvercommit(t *testing.T) {
	runCases(t, overcommitCases())
}
func TestPlaceInvalid(t *testing.T) { runCases(t, invalidCases()) }

// TestHarnessCarriesCapacity checks that a later call sees what an
// earlier call placed, once the harness has applied the plan.
func TestHarnessCarriesCapacity(t *testing.T) {
	h := st.New(t, scheduler.Options{}, st.Node("n1", "a", 4, 4096, 100))
	first := h.Place(st.Small("i-1"), st.Small("i-2"))
	if len(first.Placements) != 2 {
		t.Fatalf("first call placed %v", first)
	}
	second := h.Place(st.Small("i-3"))
	want := map[string]scheduler.Reason{"i-3": scheduler.ReasonInsufficientCapacity}
	if got := st.Reasons(second); !maps.Equal(got, want) {
		t.Fatalf("second call: got %v, want %v", got, want)
	}
	if got := h.Node("n1").Allocated; got != (scheduler.Resources{VCPUs: 4, MemoryMiB: 2048, DiskGiB: 16}) {
		t.Fatalf("allocated after plans = %+v", got)
	}
	if len(h.Plans) != 2 {
		t.Fatalf("recorded %d plans, want 2", len(h.Plans))
	}
}

func TestPlaceEmpty(t *testing.T) {
	res := scheduler.Place(nil, nil, scheduler.Options{AllOrNothing: true})
	if len(res.Placements) != 0 || len(res.Unplaced) != 0 {
		t.Fatalf("empty call gave %+v", res)
	}
}

func TestCapacity(t *testing.T) {
	n := st.Node("n1", "a", 3, 1000, 50)
	tests := []struct {
		opts scheduler.Options
		want scheduler.Resources
	}{
		{scheduler.Options{}, scheduler.Resources{VCPUs: 3, MemoryMiB: 1000, DiskGiB: 50}},
		{scheduler.Options{VCPUOvercommit: 1.5}, scheduler.Resources{VCPUs: 4, MemoryMiB: 1000, DiskGiB: 50}},
		{scheduler.Options{VCPUOvercommit: 4, MemoryOvercommit: 1.25}, scheduler.Resources{VCPUs: 12, MemoryMiB: 1250, DiskGiB: 50}},
		{scheduler.Options{VCPUOvercommit: -1, MemoryOvercommit: 0.5}, scheduler.Resources{VCPUs: 3, MemoryMiB: 500, DiskGiB: 50}},
	}
	for _, tt := range tests {
		if got := tt.opts.Capacity(n); got != tt.want {
			t.Errorf("Capacity with %+v = %+v, want %+v", tt.opts, got, tt.want)
		}
	}
}
