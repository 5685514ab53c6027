package store

import (
	"context"
	"fmt"
	"time"
)

// DeleteNetworkInterface removes an interface of an account with its tags,
// groups and secondary addresses; ErrNotFound when there is none. Elastic
// IPs associated with it lapse (ListAddresses).
func (tx *Tx) DeleteNetworkInterface(ctx context.Context, accountID, id string) error {
	if err := tx.DeleteAllTags(ctx, accountID, id); err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM network_interface_groups WHERE interface_id = $1`,
		`DELETE FROM network_interface_addresses WHERE interface_id = $1`,
	} {
		if _, err := tx.exec(ctx, q, id); err != nil {
			return fmt.Errorf("delete network interface %s: %w", id, err)
		}
	}
	if err := tx.execOne(ctx, `DELETE FROM network_interfaces WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return fmt.Errorf("delete network interface %s: %w", id, err)
	}
	return nil
}

// SetNetworkInterfaceGroups replaces the groups of an interface that is
// not an instance's primary (those are the instance's:
// SetInstanceSecurityGroups), kept in the order given.
func (tx *Tx) SetNetworkInterfaceGroups(ctx context.Context, interfaceID string, groupIDs []string) error {
	if _, err := tx.exec(ctx, `DELETE FROM network_interface_groups WHERE interface_id = $1`, interfaceID); err != nil {
		return fmt.Errorf("interface %s groups: %w", interfaceID, err)
	}
	for n, g := range groupIDs {
		if _, err := tx.exec(ctx, `INSERT INTO network_interface_groups (interface_id, group_id, position) VALUES ($1, $2, $3)`,
			interfaceID, g, n); err != nil {
			return fmt.Errorf("interface %s groups: %w", interfaceID, err)
		}
	}
	return nil
}

// AddSecondaryIPs assigns secondary private addresses to an interface;
// ErrConflict when one is taken on the subnet as a secondary address (the
// caller checks primary addresses with SubnetPrivateIPs).
func (tx *Tx) AddSecondaryIPs(ctx context.Context, n NetworkInterface, ips []string) error {
	for _, ip := range ips {
		if _, err := tx.exec(ctx, `INSERT INTO network_interface_addresses (interface_id, subnet_id, private_ip, created_at)
			VALUES ($1, $2, $3, $4)`, n.ID, n.SubnetID, ip, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("assign %s to %s: %w", ip, n.ID, err)
		}
	}
	return nil
}

// RemoveSecondaryIPs unassigns secondary private addresses of an
// interface (addresses it does not have are ignored).
func (tx *Tx) RemoveSecondaryIPs(ctx context.Context, interfaceID string, ips []string) error {
	for _, ip := range ips {
		if _, err := tx.exec(ctx, `DELETE FROM network_interface_addresses WHERE interface_id = $1 AND private_ip = $2`,
			interfaceID, ip); err != nil {
			return fmt.Errorf("unassign %s from %s: %w", ip, interfaceID, err)
		}
	}
	return nil
}

// IPHolder is the interface holding an address on a subnet.
type IPHolder struct {
	InterfaceID string
	AccountID   string
	Secondary   bool
}

// SubnetIPHolder returns the interface holding ip on a subnet, as its
// primary or a secondary address; ErrNotFound when the address is free.
func (tx *Tx) SubnetIPHolder(ctx context.Context, subnetID, ip string) (IPHolder, error) {
	var h IPHolder
	err := tx.queryRow(ctx, `SELECT id, account_id, FALSE FROM network_interfaces WHERE subnet_id = $1 AND private_ip = $2
		UNION ALL SELECT a.interface_id, ni.account_id, TRUE FROM network_interface_addresses a
			JOIN network_interfaces ni ON ni.id = a.interface_id WHERE a.subnet_id = $1 AND a.private_ip = $2`,
		[]any{subnetID, ip}, &h.InterfaceID, &h.AccountID, &h.Secondary)
	if err != nil {
		return h, fmt.Errorf("holder of %s on %s: %w", ip, subnetID, err)
	}
	return h, nil
}

// GroupHasInterfaces reports whether a security group is one of the groups
// of an interface that is not an instance's primary (DeleteSecurityGroup's
// DependencyViolation; primaries' groups are in instance_security_groups).
func (tx *Tx) GroupHasInterfaces(ctx context.Context, groupID string) (bool, error) {
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM network_interface_groups WHERE group_id = $1`, []any{groupID}, &n); err != nil {
		return false, fmt.Errorf("interfaces of group %s: %w", groupID, err)
	}
	return n > 0, nil
}

// SubnetHasInterfaces reports whether any interface is on a subnet
// (DeleteSubnet's DependencyViolation).
func (tx *Tx) SubnetHasInterfaces(ctx context.Context, subnetID string) (bool, error) {
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM network_interfaces WHERE subnet_id = $1`, []any{subnetID}, &n); err != nil {
		return false, fmt.Errorf("interfaces on subnet %s: %w", subnetID, err)
	}
	return n > 0, nil
}
