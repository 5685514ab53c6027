package store

import (
	"context"
	"database/sql"
	"fmt"
)

// SubnetInternetRoutes returns the destination CIDRs that a subnet's route
// table (its explicit association, else its VPC's main table) sends to an
// internet gateway attached to the subnet's VPC, sorted. A route to a
// gateway that is detached (a blackhole in EC2's words) is left out.
func (tx *Tx) SubnetInternetRoutes(ctx context.Context, subnetID string) ([]string, error) {
	var out []string
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var cidr string
		err := r.Scan(&cidr)
		out = append(out, cidr)
		return err
	}, `WITH sn AS (SELECT id, vpc_id FROM subnets WHERE id = $1),
		tbl AS (SELECT COALESCE(
			(SELECT a.route_table_id FROM route_table_associations a WHERE a.subnet_id = $1),
			(SELECT t.id FROM route_tables t JOIN sn ON t.vpc_id = sn.vpc_id WHERE t.main_association_id <> '')) AS id)
		SELECT r.destination_cidr FROM routes r
			JOIN tbl ON r.route_table_id = tbl.id
			JOIN internet_gateways g ON g.id = r.gateway_id
			JOIN sn ON g.vpc_id = sn.vpc_id
		ORDER BY r.destination_cidr`, subnetID)
	if err != nil {
		return nil, fmt.Errorf("internet routes of %s: %w", subnetID, err)
	}
	return out, nil
}
