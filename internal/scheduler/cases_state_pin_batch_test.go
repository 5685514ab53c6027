package scheduler_test

import (
	"time"

	"github.com/kumo-cloud/kumo/internal/scheduler"
	st "github.com/kumo-cloud/kumo/internal/scheduler/schedulertest"
)

func nodeStateCases() []placeCase {
	big := func(id string) scheduler.Node { return st.Node(id, "a", 64, 65536, 1000) }
	ok := st.Node("ok", "a", 2, 2048, 100)
	stale := st.SeenAt(big("stale"), st.Now().Add(-10*time.Minute))
	edge := st.SeenAt(big("edge"), st.Now().Add(-5*time.Minute))
	withStale := scheduler.Options{StaleAfter: 5 * time.Minute}
	return []placeCase{{
		name: "draining, down and removed nodes skipped",
		nodes: []scheduler.Node{
			st.WithState(big("d"), scheduler.NodeDraining),
			st.WithState(big("x"), scheduler.NodeDown),
			st.WithState(big("r"), scheduler.NodeRemoved),
			ok,
		},
		reqs:     []scheduler.Request{st.Small("i-1"), st.Small("i-2")},
		placed:   map[string]string{"i-1": "ok"},
		unplaced: map[string]scheduler.Reason{"i-2": insufficient},
	}, {
		name:     "no ready node",
		nodes:    []scheduler.Node{st.WithState(big("d"), scheduler.NodeDraining), st.WithState(big("x"), scheduler.NodeDown)},
		reqs:     []scheduler.Request{st.Small("i-1")},
		unplaced: map[string]scheduler.Reason{"i-1": scheduler.ReasonNoReadyNode},
	}, {
		name:   "stale node skipped",
		opts:   withStale,
		nodes:  []scheduler.Node{stale, ok},
		reqs:   []scheduler.Request{st.Small("i-1")},
		placed: map[string]string{"i-1": "ok"},
	}, {
		name:   "node seen exactly StaleAfter ago is live",
		opts:   withStale,
		nodes:  []scheduler.Node{edge, ok},
		reqs:   []scheduler.Request{st.Small("i-1")},
		placed: map[string]string{"i-1": "edge"},
	}, {
		name:   "staleness not checked without StaleAfter",
		nodes:  []scheduler.Node{stale, ok},
		reqs:   []scheduler.Request{st.Small("i-1")},
		placed: map[string]string{"i-1": "stale"},
	}, {
		name:     "duplicated node ids are not trusted",
		nodes:    []scheduler.Node{big("n1"), st.Node("n1", "a", 1, 1, 1), ok},
		reqs:     []scheduler.Request{st.Small("i-1"), st.Small("i-2")},
		placed:   map[string]string{"i-1": "ok"},
		unplaced: map[string]scheduler.Reason{"i-2": insufficient},
	}}
}

func pinnedCases() []placeCase {
	n1 := st.WithAllocated(st.Node("n1", "kumo-1a", 4, 4096, 100), scheduler.Resources{VCPUs: 2})
	n2 := st.Node("n2", "kumo-1a", 4, 4096, 100)
	down := st.WithState(st.Node("dn", "kumo-1a", 4, 4096, 100), scheduler.NodeDown)
	unavailable := scheduler.ReasonPinnedNodeUnavailable
	return []placeCase{{
		name:   "pinned stays on its node though another is emptier",
		nodes:  []scheduler.Node{n1, n2},
		reqs:   []scheduler.Request{st.Pinned(st.Small("i-1"), "n1")},
		placed: map[string]string{"i-1": "n1"},
	}, {
		name:     "pinned to a down or unknown node",
		nodes:    []scheduler.Node{n1, n2, down},
		reqs:     []scheduler.Request{st.Pinned(st.Small("i-1"), "dn"), st.Pinned(st.Small("i-2"), "gone")},
		unplaced: map[string]scheduler.Reason{"i-1": unavailable, "i-2": unavailable},
	}, {
		name:     "pinned to a full node does not move",
		nodes:    []scheduler.Node{n1, n2},
		reqs:     []scheduler.Request{st.Pinned(st.Req("i-1", 4, 1024, 8), "n1")},
		unplaced: map[string]scheduler.Reason{"i-1": insufficient},
	}, {
		name:     "pinned to a node outside the requested zone",
		nodes:    []scheduler.Node{n1, n2},
		reqs:     []scheduler.Request{st.InZone(st.Pinned(st.Small("i-1"), "n1"), "kumo-1b")},
		unplaced: map[string]scheduler.Reason{"i-1": scheduler.ReasonNoNodeInZone},
	}, {
		name:   "pinned requests go before others take their room",
		nodes:  []scheduler.Node{st.Node("n1", "kumo-1a", 4, 4096, 100), n2},
		reqs:   []scheduler.Request{st.Req("i-1", 4, 1024, 8), st.Pinned(st.Small("i-9"), "n1")},
		placed: map[string]string{"i-1": "n2", "i-9": "n1"},
	}}
}

func batchCases() []placeCase {
	node := st.Node("n1", "a", 4, 4096, 100)
	three := []scheduler.Request{st.Small("i-1"), st.Small("i-2"), st.Small("i-3")}
	return []placeCase{{
		name:  "all-or-nothing short of capacity places none",
		opts:  scheduler.Options{AllOrNothing: true},
		nodes: []scheduler.Node{node},
		reqs:  three,
		unplaced: map[string]scheduler.Reason{
			"i-1": scheduler.ReasonBatchMinimumNotMet,
			"i-2": scheduler.ReasonBatchMinimumNotMet,
			"i-3": insufficient,
		},
	}, {
		name:     "best effort places what fits",
		nodes:    []scheduler.Node{node},
		reqs:     three,
		placed:   map[string]string{"i-1": "n1", "i-2": "n1"},
		unplaced: map[string]scheduler.Reason{"i-3": insufficient},
	}, {
		name:     "MinCount met places up to capacity",
		opts:     scheduler.Options{AllOrNothing: true, MinCount: 2},
		nodes:    []scheduler.Node{node},
		reqs:     three,
		placed:   map[string]string{"i-1": "n1", "i-2": "n1"},
		unplaced: map[string]scheduler.Reason{"i-3": insufficient},
	}, {
		name:   "all-or-nothing that fits places all",
		opts:   scheduler.Options{AllOrNothing: true},
		nodes:  []scheduler.Node{node, st.Node("n2", "a", 2, 2048, 100)},
		reqs:   three,
		placed: map[string]string{"i-1": "n1", "i-2": "n1", "i-3": "n2"},
	}, {
		name:  "an invalid request fails the whole batch",
		opts:  scheduler.Options{AllOrNothing: true},
		nodes: []scheduler.Node{node},
		reqs:  []scheduler.Request{st.Small("i-1"), st.Req("i-2", -1, 0, 0)},
		unplaced: map[string]scheduler.Reason{
			"i-1": scheduler.ReasonBatchMinimumNotMet,
			"i-2": scheduler.ReasonInvalidRequest,
		},
	}}
}

func overcommitCases() []placeCase {
	one := func(id string) scheduler.Request { return st.Req(id, 1, 256, 1) }
	var nine []scheduler.Request
	for _, id := range []string{"i-1", "i-2", "i-3", "i-4", "i-5", "i-6", "i-7", "i-8", "i-9"} {
		nine = append(nine, one(id))
	}
	eight := map[string]string{}
	for _, r := range nine[:8] {
		eight[r.InstanceID] = "n1"
	}
	return []placeCase{{
		name:     "no vCPU overcommit by default",
		nodes:    []scheduler.Node{st.Node("n1", "a", 4, 65536, 100)},
		reqs:     nine[:5],
		placed:   map[string]string{"i-1": "n1", "i-2": "n1", "i-3": "n1", "i-4": "n1"},
		unplaced: map[string]scheduler.Reason{"i-5": insufficient},
	}, {
		name:     "vCPU overcommit 2.0 doubles what fits",
		opts:     scheduler.Options{VCPUOvercommit: 2},
		nodes:    []scheduler.Node{st.Node("n1", "a", 4, 65536, 100)},
		reqs:     nine,
		placed:   eight,
		unplaced: map[string]scheduler.Reason{"i-9": insufficient},
	}, {
		name:     "memory is not overcommitted by the vCPU ratio",
		opts:     scheduler.Options{VCPUOvercommit: 4},
		nodes:    []scheduler.Node{st.Node("n1", "a", 4, 1024, 100)},
		reqs:     nine[:5],
		placed:   map[string]string{"i-1": "n1", "i-2": "n1", "i-3": "n1", "i-4": "n1"},
		unplaced: map[string]scheduler.Reason{"i-5": insufficient},
	}, {
		name:     "memory overcommit when configured",
		opts:     scheduler.Options{VCPUOvercommit: 4, MemoryOvercommit: 1.5},
		nodes:    []scheduler.Node{st.Node("n1", "a", 4, 1024, 100)},
		reqs:     nine[:7],
		placed:   map[string]string{"i-1": "n1", "i-2": "n1", "i-3": "n1", "i-4": "n1", "i-5": "n1", "i-6": "n1"},
		unplaced: map[string]scheduler.Reason{"i-7": insufficient},
	}}
}

func invalidCases() []placeCase {
	node := st.Node("n1", "a", 64, 65536, 1000)
	invalid := scheduler.ReasonInvalidRequest
	return []placeCase{{
		name:     "duplicated instance ids rejected, every copy",
		nodes:    []scheduler.Node{node},
		reqs:     []scheduler.Request{st.Small("i-1"), st.Small("i-1"), st.Small("i-2")},
		placed:   map[string]string{"i-2": "n1"},
		unplaced: map[string]scheduler.Reason{"i-1": invalid},
	}, {
		name:     "negative need and empty id rejected",
		nodes:    []scheduler.Node{node},
		reqs:     []scheduler.Request{st.Req("i-1", 1, -1, 8), st.Small("")},
		unplaced: map[string]scheduler.Reason{"i-1": invalid, "": invalid},
	}}
}
