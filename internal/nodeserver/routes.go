package nodeserver

import (
	"context"
	"fmt"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// targetRoutes are the routes of a subnet's route table a node carries
// out itself: to instances and interfaces (by their primary private
// address) and blackholes.
func targetRoutes(ctx context.Context, tx *store.Tx, subnetID string) ([]nodeapi.Route, error) {
	list, err := tx.SubnetTargetRoutes(ctx, subnetID)
	if err != nil {
		return nil, fmt.Errorf("routes of %s: %w", subnetID, err)
	}
	var out []nodeapi.Route
	for _, r := range list {
		out = append(out, nodeapi.Route{Destination: r.Destination, NextHop: r.NextHop})
	}
	return out, nil
}
