package store

import (
	"context"
	"database/sql"
	"fmt"
)

// VPCDNS is what a VPC's resolver needs: the VPC's DNS attributes and
// every private address of its interfaces with the public address mapped
// to it.
type VPCDNS struct {
	CIDR               string
	EnableDNSSupport   bool
	EnableDNSHostnames bool
	Names              []DNSName // by private address
}

// DNSName is one private address of a VPC and its public address (empty when
// none).
type DNSName struct {
	PrivateIP string
	PublicIP  string
}

// VPCDNSNames reads a VPC's resolver data (of any account): every private
// address (primary and secondary) of every interface in it, attached or
// not, and the live public addresses mapped to them (an elastic IP takes
// the place of an auto-assigned one, as on the interface).
func (tx *Tx) VPCDNSNames(ctx context.Context, vpcID string) (VPCDNS, error) {
	out, err := tx.VPCDNSAttributes(ctx, vpcID)
	if err != nil {
		return out, err
	}
	err = tx.queryRows(ctx, func(r *sql.Rows) error {
		var n DNSName
		err := r.Scan(&n.PrivateIP)
		out.Names = append(out.Names, n)
		return err
	}, `SELECT DISTINCT private_ip FROM (
			SELECT ni.private_ip FROM network_interfaces ni WHERE ni.vpc_id = $1
			UNION ALL
			SELECT a.private_ip FROM network_interface_addresses a JOIN network_interfaces ni ON ni.id = a.interface_id WHERE ni.vpc_id = $1
		) x ORDER BY private_ip`, vpcID)
	if err != nil {
		return out, fmt.Errorf("dns names of vpc %s: %w", vpcID, err)
	}
	addrs, err := tx.listAddresses(ctx, `WHERE ni.vpc_id = $1 ORDER BY a.public_ip`, vpcID)
	if err != nil {
		return out, err
	}
	public := map[string]Address{}
	for _, a := range addrs {
		if old, ok := public[a.PrivateIP]; a.Associated() && (!ok || old.Auto) {
			public[a.PrivateIP] = a
		}
	}
	for i := range out.Names {
		out.Names[i].PublicIP = public[out.Names[i].PrivateIP].PublicIP
	}
	return out, nil
}

// VPCDNSAttributes reads a VPC's CIDR and DNS attributes (of any
// account), without Names; ErrNotFound when there is no such VPC.
func (tx *Tx) VPCDNSAttributes(ctx context.Context, vpcID string) (VPCDNS, error) {
	var out VPCDNS
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		return r.Scan(&out.CIDR, &out.EnableDNSSupport, &out.EnableDNSHostnames)
	}, `SELECT cidr_block, enable_dns_support, enable_dns_hostnames FROM vpcs WHERE id = $1`, vpcID)
	if err != nil {
		return out, fmt.Errorf("dns of vpc %s: %w", vpcID, err)
	}
	if out.CIDR == "" {
		return out, fmt.Errorf("dns of vpc %s: %w", vpcID, ErrNotFound)
	}
	return out, nil
}
