package ec2

import (
	"context"
	"net/http"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/scheduler"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Capacity accounting, decided here and used by RunInstances and
// StartInstances (see docs in instanceUsage):
//   - a node is usable when its state is ready and it reported within
//     nodeapi.StaleAfter; draining and stale nodes take nothing new;
//   - an instance that is pending, running, stopping or shutting-down uses
//     its vCPUs, memory and root disk on its node;
//   - a stopped instance keeps its node (its root disk stays there) and uses
//     only the disk; a terminated one uses nothing.

// errInsufficientCapacity is EC2's answer when a launch cannot be placed:
// a server error (HTTP 500), as AWS sends it.
func errInsufficientCapacity(instanceType, zone string) error {
	if zone != "" {
		return awsapi.NewError("InsufficientInstanceCapacity", http.StatusInternalServerError,
			"We currently do not have sufficient %s capacity in the Availability Zone you requested (%s). Our system will be working on provisioning additional capacity.", instanceType, zone)
	}
	return awsapi.NewError("InsufficientInstanceCapacity", http.StatusInternalServerError,
		"We currently do not have sufficient %s capacity. Our system will be working on provisioning additional capacity.", instanceType)
}

// instanceUsage is what an instance takes from its node.
func instanceUsage(i store.Instance) scheduler.Resources {
	switch instancestate.State(i.State) {
	case instancestate.Terminated:
		return scheduler.Resources{}
	case instancestate.Stopped:
		return scheduler.Resources{DiskGiB: i.RootSizeGiB}
	}
	return scheduler.Resources{VCPUs: i.VCPUs, MemoryMiB: int64(i.MemoryMiB), DiskGiB: i.RootSizeGiB}
}

// instanceNeed is what an instance takes from a node once running.
func instanceNeed(i store.Instance) scheduler.Resources {
	return scheduler.Resources{VCPUs: i.VCPUs, MemoryMiB: int64(i.MemoryMiB), DiskGiB: i.RootSizeGiB}
}

// placement is a snapshot of the nodes for one placing transaction.
type placement struct {
	nodes []scheduler.Node
	opts  scheduler.Options
}

// loadPlacement takes the placement lock and reads every node with what
// placed instances use on it; instances named in skip are left out (they
// are about to be placed again).
func loadPlacement(ctx context.Context, tx *store.Tx, now time.Time, skip map[string]bool, vcpuOvercommit float64) (*placement, error) {
	if err := tx.LockPlacement(ctx); err != nil {
		return nil, err
	}
	nodes, err := tx.ListNodes(ctx)
	if err != nil {
		return nil, err
	}
	placed, err := tx.ListPlacedInstances(ctx)
	if err != nil {
		return nil, err
	}
	used := map[string]scheduler.Resources{}
	for _, i := range placed {
		if !skip[i.ID] {
			used[i.NodeID] = used[i.NodeID].Add(instanceUsage(i))
		}
	}
	p := &placement{opts: scheduler.Options{Now: now, StaleAfter: nodeapi.StaleAfter, VCPUOvercommit: vcpuOvercommit}}
	for _, n := range nodes {
		p.nodes = append(p.nodes, scheduler.Node{ID: n.ID, Zone: n.Zone, VCPUs: n.VCPUs, MemoryMiB: n.MemoryMiB, DiskGiB: n.DiskGiB,
			Allocated: used[n.ID], State: scheduler.NodeState(n.State), LastSeen: n.LastSeen})
	}
	return p, nil
}

// usable reports whether the node exists and may take new instances.
func (p *placement) usable(nodeID string) bool {
	for _, n := range p.nodes {
		if n.ID == nodeID {
			return p.opts.Usable(n)
		}
	}
	return false
}

// place runs the scheduler; with min > 0 it places nothing unless at
// least min requests fit. Placed requests' resources are added to the
// snapshot so a later call sees them.
func (p *placement) place(reqs []scheduler.Request, min int, zones map[string]bool) map[string]string {
	opts := p.opts
	if min > 0 {
		opts.AllOrNothing, opts.MinCount = true, min
	}
	nodes := p.nodes
	if zones != nil {
		nodes = nil
		for _, n := range p.nodes {
			if zones[n.Zone] {
				nodes = append(nodes, n)
			}
		}
	}
	res := scheduler.Place(nodes, reqs, opts)
	need := map[string]scheduler.Resources{}
	for _, r := range reqs {
		need[r.InstanceID] = r.Need
	}
	out := map[string]string{}
	for _, pl := range res.Placements {
		out[pl.InstanceID] = pl.NodeID
		for k := range p.nodes {
			if p.nodes[k].ID == pl.NodeID {
				p.nodes[k].Allocated = p.nodes[k].Allocated.Add(need[pl.InstanceID])
			}
		}
	}
	return out
}

// notify tells the nodes named (once each, none empty) that their desired
// state changed; it runs after the transaction committed.
func (s *Service) notify(nodeIDs ...string) {
	if s.Notify == nil {
		return
	}
	seen := map[string]bool{}
	var ids []string
	for _, id := range nodeIDs {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		s.Notify(ids...)
	}
}

// notifyAll tells every connected node to recompute its desired state (a
// security group change reaches the nodes of its members and of every
// group that references it); each gets a new Desired only if it changed.
func (s *Service) notifyAll() {
	if s.Notify != nil {
		s.Notify()
	}
}
