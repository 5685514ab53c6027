package nodeserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// ErrNodeBusy: a node still hosts instances that are not terminated.
var ErrNodeBusy = errors.New("node still hosts instances")

// NodeStatus is a node as operators see it.
type NodeStatus struct {
	store.Node
	// Status is ready, draining, or stale (not heard from for StaleAfter;
	// never reported counts as stale too).
	Status    string
	Connected bool
	// Instances counts the instances on it that are not terminated.
	Instances int
}

// ListNodes returns every node with its derived status.
func (s *Server) ListNodes(ctx context.Context) ([]NodeStatus, error) {
	var out []NodeStatus
	now := s.now()
	err := s.db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		nodes, err := tx.ListNodes(ctx)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			count, err := tx.CountNodeActiveInstances(ctx, n.ID)
			if err != nil {
				return err
			}
			out = append(out, NodeStatus{Node: n, Status: derivedStatus(n, now), Instances: count})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	s.mu.Lock()
	for i := range out {
		out[i].Connected = s.sessions[out[i].ID] != nil
	}
	s.mu.Unlock()
	return out, nil
}

func derivedStatus(n store.Node, now time.Time) string {
	if n.LastSeen.IsZero() || now.Sub(n.LastSeen) > nodeapi.StaleAfter {
		return "stale"
	}
	return n.State
}

// Drain stops new placements on a node (by name or id); what runs there
// keeps running.
func (s *Server) Drain(ctx context.Context, ref string) (store.Node, error) {
	var node store.Node
	err := s.db.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if node, err = tx.FindNode(ctx, ref); err != nil {
			return err
		}
		node.State = StateDraining
		return tx.SetNodeState(ctx, node.ID, StateDraining)
	})
	if err != nil {
		return store.Node{}, fmt.Errorf("drain node %s: %w", ref, err)
	}
	s.Notify(node.ID)
	s.logger.InfoContext(ctx, "node draining", "node", node.ID, "name", node.Name)
	return node, nil
}

// Remove deletes a node (by name or id) and revokes its certificate. It
// refuses while the node hosts instances that are not terminated, unless force.
func (s *Server) Remove(ctx context.Context, ref string, force bool) error {
	var node store.Node
	err := s.db.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if node, err = tx.FindNode(ctx, ref); err != nil {
			return err
		}
		n, err := tx.CountNodeActiveInstances(ctx, node.ID)
		if err != nil {
			return err
		}
		if n > 0 && !force {
			return fmt.Errorf("%w: %d not terminated on %s (terminate them, or remove with force)", ErrNodeBusy, n, node.Name)
		}
		if err := tx.SetNodeCert(ctx, node.ID, ""); err != nil {
			return err
		}
		return tx.DeleteNode(ctx, node.ID)
	})
	if err != nil {
		return fmt.Errorf("remove node %s: %w", ref, err)
	}
	s.dropSession(node.ID)
	s.logger.InfoContext(ctx, "node removed", "node", node.ID, "name", node.Name, "force", force)
	return nil
}
