package store

import (
	"context"
	"errors"
	"fmt"
)

// Queries the node server uses: what a node must run, and the updates its
// reports make.

// ListNodeDesiredInstances returns the instances a node must be told about:
// every one placed on it that is not terminated, and terminated ones the
// node has not yet reported deleted.
func (tx *Tx) ListNodeDesiredInstances(ctx context.Context, nodeID string) ([]Instance, error) {
	return tx.listInstances(ctx, `WHERE node_id = $1 AND (state <> 'terminated' OR observed_state <> 'deleted') ORDER BY id`, nodeID)
}

// CountNodeActiveInstances counts a node's instances that are not terminated.
func (tx *Tx) CountNodeActiveInstances(ctx context.Context, nodeID string) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM instances WHERE node_id = $1 AND state <> 'terminated'`, []any{nodeID}, &n)
	if err != nil {
		return 0, fmt.Errorf("count instances on node %s: %w", nodeID, err)
	}
	return n, nil
}

// ErrStale: the row changed since it was read; the caller retries later.
var ErrStale = errors.New("instance changed concurrently")

// UpdateInstanceObserved writes what a node's report changed: state and
// reasons, observed state and console. It applies only while the instance
// is still on nodeID and in state fromState, so an API request that moved
// the instance meanwhile is never overwritten (ErrStale then).
func (tx *Tx) UpdateInstanceObserved(ctx context.Context, nodeID, fromState string, i Instance) error {
	err := tx.execOne(ctx, `UPDATE instances SET state = $4, state_reason_code = $5, state_reason_message = $6,
		state_transition_reason = $7, state_changed_at = $8, observed_state = $9, observed_at = $10,
		console_output = $11, console_at = $12, desired_power = $13
		WHERE id = $1 AND node_id = $2 AND state = $3`,
		i.ID, nodeID, fromState, i.State, i.StateReasonCode, i.StateReasonMessage, i.StateTransitionReason,
		i.StateChangedAt.UnixMilli(), i.ObservedState, i.ObservedAt.UnixMilli(), i.ConsoleOutput, i.ConsoleAt.UnixMilli(),
		i.DesiredPower)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("update instance %s: %w", i.ID, ErrStale)
	}
	if err != nil {
		return fmt.Errorf("update instance %s: %w", i.ID, err)
	}
	return nil
}

// InstanceNetwork is an instance's primary interface with its subnet and VPC.
type InstanceNetwork struct {
	InterfaceID string
	MAC         string
	PrivateIP   string
	SubnetID    string
	SubnetCIDR  string
	VPCID       string
	VPCCIDR     string
}

// GetInstanceNetwork returns the primary (device 0) interface of an
// instance; ErrNotFound if it has none.
func (tx *Tx) GetInstanceNetwork(ctx context.Context, instanceID string) (InstanceNetwork, error) {
	var n InstanceNetwork
	err := tx.queryRow(ctx, `SELECT ni.id, ni.mac, ni.private_ip, ni.subnet_id, s.cidr_block, ni.vpc_id, v.cidr_block
		FROM network_interfaces ni JOIN subnets s ON s.id = ni.subnet_id JOIN vpcs v ON v.id = ni.vpc_id
		WHERE ni.instance_id = $1 ORDER BY ni.device_index LIMIT 1`, []any{instanceID},
		&n.InterfaceID, &n.MAC, &n.PrivateIP, &n.SubnetID, &n.SubnetCIDR, &n.VPCID, &n.VPCCIDR)
	if err != nil {
		return InstanceNetwork{}, fmt.Errorf("network interface of %s: %w", instanceID, err)
	}
	return n, nil
}

// BootFileLocation returns the object key of a kernel or ramdisk image;
// ErrNotFound when id is not one.
func (tx *Tx) BootFileLocation(ctx context.Context, id string) (string, error) {
	var loc string
	err := tx.queryRow(ctx, `SELECT location FROM images WHERE id = $1 AND image_type IN ('kernel', 'ramdisk')`, []any{id}, &loc)
	if err != nil {
		return "", fmt.Errorf("boot image %s: %w", id, err)
	}
	return loc, nil
}

// IsBootFileLocation reports whether key is the object of a kernel or ramdisk image.
func (tx *Tx) IsBootFileLocation(ctx context.Context, key string) (bool, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM images WHERE location = $1 AND location <> '' AND image_type IN ('kernel', 'ramdisk')`,
		[]any{key}, &n)
	if err != nil {
		return false, fmt.Errorf("look up boot file %s: %w", key, err)
	}
	return n > 0, nil
}

// GetKeyPairPublicKey returns the public key of an account's key pair by
// name; ErrNotFound if none.
func (tx *Tx) GetKeyPairPublicKey(ctx context.Context, accountID, name string) (string, error) {
	var key string
	err := tx.queryRow(ctx, `SELECT public_key FROM key_pairs WHERE account_id = $1 AND name = $2`, []any{accountID, name}, &key)
	if err != nil {
		return "", fmt.Errorf("key pair %s: %w", name, err)
	}
	return key, nil
}

// SecurityGroupName returns a group's name; ErrNotFound if none.
func (tx *Tx) SecurityGroupName(ctx context.Context, id string) (string, error) {
	var name string
	if err := tx.queryRow(ctx, `SELECT name FROM security_groups WHERE id = $1`, []any{id}, &name); err != nil {
		return "", fmt.Errorf("security group %s: %w", id, err)
	}
	return name, nil
}
