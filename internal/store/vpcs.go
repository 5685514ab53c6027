package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// VPC is a virtual network of one account.
type VPC struct {
	ID                 string
	AccountID          string
	CIDRBlock          string
	IsDefault          bool
	State              string
	InstanceTenancy    string
	EnableDNSSupport   bool
	EnableDNSHostnames bool
	CreatedAt          time.Time
	// VNI is the VPC's VXLAN network identifier, assigned by InsertVPC.
	VNI uint32
}

// Subnet is a range of a VPC in one availability zone.
type Subnet struct {
	ID                  string
	AccountID           string
	VPCID               string
	CIDRBlock           string
	AvailabilityZone    string
	DefaultForAZ        bool
	MapPublicIPOnLaunch bool
	State               string
	CreatedAt           time.Time
}

// InsertVPC stores a VPC and assigns it the next free VNI (v.VNI is
// ignored; read it back with GetVPC).
func (tx *Tx) InsertVPC(ctx context.Context, v VPC) error {
	if err := tx.lockVNI(ctx); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO vpcs (id, account_id, cidr_block, is_default, state, instance_tenancy, enable_dns_support, enable_dns_hostnames, created_at, vni)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, (SELECT COALESCE(MAX(vni), $10) + 1 FROM vpcs))`,
		v.ID, v.AccountID, v.CIDRBlock, v.IsDefault, v.State, v.InstanceTenancy, v.EnableDNSSupport, v.EnableDNSHostnames, v.CreatedAt.UnixMilli(), firstVNI-1)
	if err != nil {
		return fmt.Errorf("insert vpc %s: %w", v.ID, err)
	}
	return nil
}

// ListVPCs returns an account's VPCs by id.
func (tx *Tx) ListVPCs(ctx context.Context, accountID string) ([]VPC, error) {
	var out []VPC
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var v VPC
		var created int64
		var vni sql.NullInt64
		err := r.Scan(&v.ID, &v.AccountID, &v.CIDRBlock, &v.IsDefault, &v.State, &v.InstanceTenancy, &v.EnableDNSSupport, &v.EnableDNSHostnames, &created, &vni)
		v.CreatedAt, v.VNI = Millis(created), uint32(vni.Int64)
		out = append(out, v)
		return err
	}, `SELECT id, account_id, cidr_block, is_default, state, instance_tenancy, enable_dns_support, enable_dns_hostnames, created_at, vni
		FROM vpcs WHERE account_id = $1 ORDER BY id`, accountID)
	return out, err
}

// GetVPC finds one VPC of the account.
func (tx *Tx) GetVPC(ctx context.Context, accountID, id string) (VPC, error) {
	vpcs, err := tx.ListVPCs(ctx, accountID)
	if err != nil {
		return VPC{}, err
	}
	for _, v := range vpcs {
		if v.ID == id {
			return v, nil
		}
	}
	return VPC{}, ErrNotFound
}

// SetVPCAttribute updates the DNS attributes of a VPC.
func (tx *Tx) SetVPCAttribute(ctx context.Context, accountID, id string, dnsSupport, dnsHostnames bool) error {
	return tx.execOne(ctx, `UPDATE vpcs SET enable_dns_support = $1, enable_dns_hostnames = $2 WHERE account_id = $3 AND id = $4`,
		dnsSupport, dnsHostnames, accountID, id)
}

// DeleteVPC removes a VPC, its default security group and its tags. The
// caller checks for dependencies first; a remaining subnet or group makes
// the delete fail with ErrInUse.
func (tx *Tx) DeleteVPC(ctx context.Context, accountID, id string) error {
	if _, err := tx.exec(ctx, `DELETE FROM security_group_rules WHERE group_id IN (SELECT id FROM security_groups WHERE vpc_id = $1 AND name = 'default')`, id); err != nil {
		return fmt.Errorf("delete default group rules of %s: %w", id, err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM tags WHERE resource_id IN (SELECT id FROM security_groups WHERE vpc_id = $1 AND name = 'default')`, id); err != nil {
		return fmt.Errorf("delete default group tags of %s: %w", id, err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM security_groups WHERE vpc_id = $1 AND name = 'default'`, id); err != nil {
		return fmt.Errorf("delete default group of %s: %w", id, err)
	}
	if err := tx.execOne(ctx, `DELETE FROM vpcs WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return err
	}
	return tx.DeleteAllTags(ctx, accountID, id)
}

// InsertSubnet stores a subnet.
func (tx *Tx) InsertSubnet(ctx context.Context, s Subnet) error {
	_, err := tx.exec(ctx, `INSERT INTO subnets (id, account_id, vpc_id, cidr_block, availability_zone, default_for_az, map_public_ip_on_launch, state, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		s.ID, s.AccountID, s.VPCID, s.CIDRBlock, s.AvailabilityZone, s.DefaultForAZ, s.MapPublicIPOnLaunch, s.State, s.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert subnet %s: %w", s.ID, err)
	}
	return nil
}

// ListSubnets returns an account's subnets by id.
func (tx *Tx) ListSubnets(ctx context.Context, accountID string) ([]Subnet, error) {
	var out []Subnet
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var s Subnet
		var created int64
		err := r.Scan(&s.ID, &s.AccountID, &s.VPCID, &s.CIDRBlock, &s.AvailabilityZone, &s.DefaultForAZ, &s.MapPublicIPOnLaunch, &s.State, &created)
		s.CreatedAt = Millis(created)
		out = append(out, s)
		return err
	}, `SELECT id, account_id, vpc_id, cidr_block, availability_zone, default_for_az, map_public_ip_on_launch, state, created_at
		FROM subnets WHERE account_id = $1 ORDER BY id`, accountID)
	return out, err
}

// DeleteSubnet removes a subnet and its tags.
func (tx *Tx) DeleteSubnet(ctx context.Context, accountID, id string) error {
	if err := tx.execOne(ctx, `DELETE FROM subnets WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return err
	}
	return tx.DeleteAllTags(ctx, accountID, id)
}
