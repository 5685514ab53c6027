package scheduler_test

import (
	"github.com/kumo-cloud/kumo/internal/scheduler"
	st "github.com/kumo-cloud/kumo/internal/scheduler/schedulertest"
)

const insufficient = scheduler.ReasonInsufficientCapacity

func capacityCases() []placeCase {
	quarter := func(id string) scheduler.Request { return st.Req(id, 2, 1024, 10) }
	return []placeCase{{
		name:   "fill a node exactly",
		nodes:  []scheduler.Node{st.Node("n1", "a", 8, 4096, 40)},
		reqs:   []scheduler.Request{quarter("i-1"), quarter("i-2"), quarter("i-3"), quarter("i-4")},
		placed: map[string]string{"i-1": "n1", "i-2": "n1", "i-3": "n1", "i-4": "n1"},
	}, {
		name:     "one more than a full node",
		nodes:    []scheduler.Node{st.Node("n1", "a", 8, 4096, 40)},
		reqs:     []scheduler.Request{quarter("i-1"), quarter("i-2"), quarter("i-3"), quarter("i-4"), quarter("i-5")},
		placed:   map[string]string{"i-1": "n1", "i-2": "n1", "i-3": "n1", "i-4": "n1"},
		unplaced: map[string]scheduler.Reason{"i-5": insufficient},
	}, {
		name:     "overflow to the next node",
		nodes:    []scheduler.Node{st.Node("n1", "a", 4, 4096, 100), st.Node("n2", "a", 2, 2048, 100)},
		reqs:     []scheduler.Request{quarter("i-1"), quarter("i-2"), quarter("i-3"), quarter("i-4")},
		placed:   map[string]string{"i-1": "n1", "i-2": "n1", "i-3": "n2"},
		unplaced: map[string]scheduler.Reason{"i-4": insufficient},
	}, {
		name:     "memory limits",
		nodes:    []scheduler.Node{st.Node("n1", "a", 64, 2048, 100)},
		reqs:     []scheduler.Request{st.Req("i-1", 1, 1024, 1), st.Req("i-2", 1, 1024, 1), st.Req("i-3", 1, 1024, 1)},
		placed:   map[string]string{"i-1": "n1", "i-2": "n1"},
		unplaced: map[string]scheduler.Reason{"i-3": insufficient},
	}, {
		name:     "disk limits",
		nodes:    []scheduler.Node{st.Node("n1", "a", 64, 65536, 20)},
		reqs:     []scheduler.Request{st.Req("i-1", 1, 512, 10), st.Req("i-2", 1, 512, 10), st.Req("i-3", 1, 512, 10)},
		placed:   map[string]string{"i-1": "n1", "i-2": "n1"},
		unplaced: map[string]scheduler.Reason{"i-3": insufficient},
	}, {
		name: "already allocated capacity counts",
		nodes: []scheduler.Node{
			st.WithAllocated(st.Node("n1", "a", 8, 8192, 100), scheduler.Resources{VCPUs: 7, MemoryMiB: 1024}),
			st.Node("n2", "a", 2, 2048, 100),
		},
		reqs:     []scheduler.Request{quarter("i-1"), quarter("i-2")},
		placed:   map[string]string{"i-1": "n2"},
		unplaced: map[string]scheduler.Reason{"i-2": insufficient},
	}, {
		name: "least loaded node first",
		nodes: []scheduler.Node{
			st.WithAllocated(st.Node("n1", "a", 8, 8192, 100), scheduler.Resources{VCPUs: 4}),
			st.Node("n2", "a", 8, 8192, 100),
		},
		reqs:   []scheduler.Request{quarter("i-1")},
		placed: map[string]string{"i-1": "n2"},
	}, {
		name:   "ties go to the lowest node id",
		nodes:  []scheduler.Node{st.Node("n3", "a", 8, 8192, 100), st.Node("n1", "a", 8, 8192, 100), st.Node("n2", "a", 8, 8192, 100)},
		reqs:   []scheduler.Request{quarter("i-1")},
		placed: map[string]string{"i-1": "n1"},
	}, {
		name:     "larger than any node",
		nodes:    []scheduler.Node{st.Node("n1", "a", 8, 8192, 100)},
		reqs:     []scheduler.Request{st.Req("i-1", 16, 1024, 8)},
		unplaced: map[string]scheduler.Reason{"i-1": insufficient},
	}, {
		name:     "no nodes at all",
		reqs:     []scheduler.Request{quarter("i-1")},
		unplaced: map[string]scheduler.Reason{"i-1": scheduler.ReasonNoReadyNode},
	}}
}

func zoneCases() []placeCase {
	nodes := []scheduler.Node{
		st.Node("a1", "kumo-1a", 64, 65536, 1000),
		st.WithAllocated(st.Node("b1", "kumo-1b", 4, 4096, 100), scheduler.Resources{VCPUs: 2}),
		st.WithState(st.Node("c1", "kumo-1c", 64, 65536, 1000), scheduler.NodeDraining),
	}
	return []placeCase{{
		name:   "zone pins the node even when another is emptier",
		nodes:  nodes,
		reqs:   []scheduler.Request{st.InZone(st.Small("i-1"), "kumo-1b"), st.Small("i-2")},
		placed: map[string]string{"i-1": "b1", "i-2": "a1"},
	}, {
		name:     "full zone does not spill into another",
		nodes:    nodes,
		reqs:     []scheduler.Request{st.InZone(st.Small("i-1"), "kumo-1b"), st.InZone(st.Small("i-2"), "kumo-1b")},
		placed:   map[string]string{"i-1": "b1"},
		unplaced: map[string]scheduler.Reason{"i-2": insufficient},
	}, {
		name:     "unknown zone",
		nodes:    nodes,
		reqs:     []scheduler.Request{st.InZone(st.Small("i-1"), "kumo-1z")},
		unplaced: map[string]scheduler.Reason{"i-1": scheduler.ReasonNoNodeInZone},
	}, {
		name:     "zone with only a draining node",
		nodes:    nodes,
		reqs:     []scheduler.Request{st.InZone(st.Small("i-1"), "kumo-1c")},
		unplaced: map[string]scheduler.Reason{"i-1": scheduler.ReasonNoNodeInZone},
	}}
}

func spreadCases() []placeCase {
	nodes := []scheduler.Node{
		st.Node("big", "a", 64, 65536, 1000),
		st.Node("s1", "a", 4, 4096, 100),
		st.Node("s2", "a", 4, 4096, 100),
	}
	tiny := func(id, key string) scheduler.Request { return st.Spread(st.Req(id, 1, 512, 8), key) }
	withHistory := st.CloneNodes(nodes)
	withHistory[0].Spread = map[string]int{"r-1": 1}
	return []placeCase{{
		name:   "no spread key: all on the least loaded node",
		nodes:  nodes,
		reqs:   []scheduler.Request{tiny("i-1", ""), tiny("i-2", ""), tiny("i-3", "")},
		placed: map[string]string{"i-1": "big", "i-2": "big", "i-3": "big"},
	}, {
		name:   "spread across 3 nodes",
		nodes:  nodes,
		reqs:   []scheduler.Request{tiny("i-1", "r-1"), tiny("i-2", "r-1"), tiny("i-3", "r-1")},
		placed: map[string]string{"i-1": "big", "i-2": "s1", "i-3": "s2"},
	}, {
		name:   "fourth of a group doubles up on the least loaded",
		nodes:  nodes,
		reqs:   []scheduler.Request{tiny("i-1", "r-1"), tiny("i-2", "r-1"), tiny("i-3", "r-1"), tiny("i-4", "r-1")},
		placed: map[string]string{"i-1": "big", "i-2": "s1", "i-3": "s2", "i-4": "big"},
	}, {
		name:   "groups spread independently",
		nodes:  nodes,
		reqs:   []scheduler.Request{tiny("i-1", "r-1"), tiny("i-2", "r-2"), tiny("i-3", "r-1"), tiny("i-4", "r-2")},
		placed: map[string]string{"i-1": "big", "i-2": "big", "i-3": "s1", "i-4": "s2"},
	}, {
		name:   "instances placed earlier count",
		nodes:  withHistory,
		reqs:   []scheduler.Request{tiny("i-1", "r-1"), tiny("i-2", "r-1")},
		placed: map[string]string{"i-1": "s1", "i-2": "s2"},
	}, {
		name:   "spread yields to capacity",
		nodes:  []scheduler.Node{st.Node("n1", "a", 4, 4096, 100), st.Node("n2", "a", 1, 1024, 100)},
		reqs:   []scheduler.Request{st.Spread(st.Req("i-1", 2, 512, 8), "r-1"), st.Spread(st.Req("i-2", 2, 512, 8), "r-1")},
		placed: map[string]string{"i-1": "n1", "i-2": "n1"},
	}}
}
