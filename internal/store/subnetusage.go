package store

import (
	"context"
	"database/sql"
	"fmt"
)

// liveInterfaces selects the interfaces that hold their addresses: all but
// those an instance's termination deletes (deleted for good when settled).
const liveInterfaces = `SELECT id, subnet_id FROM network_interfaces WHERE account_id = $1 AND NOT (delete_on_termination
	AND instance_id IN (SELECT id FROM instances WHERE account_id = $1 AND state = 'terminated'))`

// SubnetAddressesInUse counts, per subnet of an account, the private
// addresses its interfaces hold (primary and secondary), for
// AvailableIpAddressCount.
func (tx *Tx) SubnetAddressesInUse(ctx context.Context, accountID string) (map[string]int, error) {
	out := map[string]int{}
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var subnet string
		var n int
		err := r.Scan(&subnet, &n)
		out[subnet] += n
		return err
	}, `SELECT li.subnet_id, COUNT(*) FROM (`+liveInterfaces+`) li GROUP BY li.subnet_id
		UNION ALL
		SELECT li.subnet_id, COUNT(*) FROM network_interface_addresses a JOIN (`+liveInterfaces+`) li ON li.id = a.interface_id
		GROUP BY li.subnet_id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("subnet addresses in use: %w", err)
	}
	return out, nil
}
