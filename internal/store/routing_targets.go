package store

import (
	"context"
	"database/sql"
	"fmt"
)

// TargetRoute is a route of a subnet's route table that a node carries
// out itself: to an instance or network interface (NextHop: its primary
// private address) or a blackhole (NextHop empty).
type TargetRoute struct {
	Destination string
	NextHop     string
}

// SubnetTargetRoutes returns the routes of a subnet's route table (its
// explicit association, else its VPC's main table) other than local ones
// and those to an internet gateway attached to the VPC: routes to an
// instance (its primary interface's address while the instance is
// pending or running), to a network interface (its primary address while
// it is attached), and blackholes (a detached gateway, a stopped or gone
// target), sorted by destination.
func (tx *Tx) SubnetTargetRoutes(ctx context.Context, subnetID string) ([]TargetRoute, error) {
	var out []TargetRoute
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var t TargetRoute
		var hop sql.NullString
		err := r.Scan(&t.Destination, &hop)
		t.NextHop = hop.String
		out = append(out, t)
		return err
	}, `WITH sn AS (SELECT id, vpc_id FROM subnets WHERE id = $1),
		tbl AS (SELECT COALESCE(
			(SELECT a.route_table_id FROM route_table_associations a WHERE a.subnet_id = $1),
			(SELECT t.id FROM route_tables t JOIN sn ON t.vpc_id = sn.vpc_id WHERE t.main_association_id <> '')) AS id)
		SELECT r.destination_cidr,
			CASE
			WHEN r.instance_id <> '' THEN (SELECT n.private_ip FROM network_interfaces n JOIN instances i ON i.id = n.instance_id
				WHERE n.instance_id = r.instance_id AND n.device_index = 0 AND i.state IN ('pending', 'running'))
			WHEN r.network_interface_id <> '' THEN (SELECT n.private_ip FROM network_interfaces n
				WHERE n.id = r.network_interface_id AND n.instance_id <> '')
			END
		FROM routes r JOIN tbl ON r.route_table_id = tbl.id
		WHERE r.gateway_id <> 'local'
			AND NOT EXISTS (SELECT 1 FROM internet_gateways g JOIN sn ON g.vpc_id = sn.vpc_id WHERE g.id = r.gateway_id)
		ORDER BY r.destination_cidr`, subnetID)
	if err != nil {
		return nil, fmt.Errorf("target routes of %s: %w", subnetID, err)
	}
	return out, nil
}
