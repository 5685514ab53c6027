package ec2

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// DefaultVPCCIDR is the default VPC's range, as AWS's.
const DefaultVPCCIDR = "172.31.0.0/16"

// EnsureDefaults creates the account's default VPC, one default subnet per
// zone and the default security group, once, on first use.
func (s *Service) EnsureDefaults(ctx context.Context, account string) error {
	if _, ok := s.defaultsReady.Load(account); ok {
		return nil
	}
	err := s.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		claimed, err := tx.ClaimDefaults(ctx, account)
		if err != nil || !claimed {
			return err
		}
		return s.createDefaultVPC(ctx, tx, account)
	})
	if err != nil {
		return fmt.Errorf("default vpc of %s: %w", account, err)
	}
	s.defaultsReady.Store(account, true)
	return nil
}

func (s *Service) createDefaultVPC(ctx context.Context, tx *store.Tx, account string) error {
	now := time.Now().UTC()
	vpc := store.VPC{ID: ids.Resource("vpc"), AccountID: account, CIDRBlock: DefaultVPCCIDR, IsDefault: true, State: "available",
		InstanceTenancy: "default", EnableDNSSupport: true, EnableDNSHostnames: true, CreatedAt: now}
	if err := tx.InsertVPC(ctx, vpc); err != nil {
		return err
	}
	if _, err := createDefaultGroup(ctx, tx, vpc); err != nil {
		return err
	}
	if err := s.defaultVPCRouting(ctx, tx, vpc); err != nil {
		return err
	}
	for i, zone := range s.Cfg.Zones {
		if i >= 16 {
			break // 16 /20s fill the /16
		}
		cidr := fmt.Sprintf("172.31.%d.0/20", i*16)
		sub := store.Subnet{ID: ids.Resource("subnet"), AccountID: account, VPCID: vpc.ID, CIDRBlock: cidr, AvailabilityZone: zone,
			DefaultForAZ: true, MapPublicIPOnLaunch: true, State: "available", CreatedAt: now}
		if err := tx.InsertSubnet(ctx, sub); err != nil {
			return err
		}
	}
	return ensureNetworkACLs(ctx, tx, account)
}

// CreateVpc makes a VPC with its default security group.
func (s *Service) CreateVpc(ctx context.Context, in *ec2api.CreateVpcRequest) (*ec2api.CreateVpcResult, error) {
	if in.CidrBlock == nil {
		if in.Ipv4IpamPoolId != nil {
			return nil, apiErr("UnsupportedOperation", "IPAM pools are not supported by Kumo yet; give CidrBlock.")
		}
		return nil, apiErr("MissingParameter", "The request must contain the parameter CidrBlock")
	}
	p, err := parseCIDR("cidrBlock", *in.CidrBlock)
	if err != nil {
		return nil, err
	}
	if p.Bits() < 16 || p.Bits() > 28 {
		return nil, apiErr("InvalidVpc.Range", "The CIDR '%s' is invalid. A VPC's size must be between /16 and /28.", *in.CidrBlock)
	}
	if in.AmazonProvidedIpv6CidrBlock != nil && *in.AmazonProvidedIpv6CidrBlock || in.Ipv6CidrBlock != nil || in.Ipv6Pool != nil {
		return nil, apiErr("UnsupportedOperation", "IPv6 VPC ranges are not supported by Kumo yet.")
	}
	tenancy := deref(in.InstanceTenancy)
	if tenancy == "" {
		tenancy = "default"
	}
	if tenancy != "default" && tenancy != "dedicated" {
		return nil, invalid("Value (%s) for parameter instanceTenancy is invalid. Valid values: default, dedicated.", tenancy)
	}
	tags, err := specTags(in.TagSpecifications, typeVPC)
	if err != nil {
		return nil, err
	}
	vpc := store.VPC{ID: ids.Resource("vpc"), CIDRBlock: p.String(), State: "available", InstanceTenancy: tenancy,
		EnableDNSSupport: true, CreatedAt: time.Now().UTC()}
	var rows []store.Tag
	var dopt string
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		vpc.AccountID = account
		if err := tx.InsertVPC(ctx, vpc); err != nil {
			return err
		}
		if _, err := createDefaultGroup(ctx, tx, vpc); err != nil {
			return err
		}
		if _, err := createMainRouteTable(ctx, tx, vpc); err != nil {
			return err
		}
		if _, err := createDefaultNetworkACL(ctx, tx, vpc); err != nil {
			return err
		}
		if err := useDefaultDHCPOptions(ctx, tx, vpc); err != nil {
			return err
		}
		if dopt, err = vpcDHCPOptionsID(ctx, tx, account, vpc.ID); err != nil {
			return err
		}
		rows, err = putTags(ctx, tx, account, vpc.ID, typeVPC, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateVpcResult{Vpc: apiVPC(vpc, dopt, rows)}, nil
}

// DeleteVpc removes a VPC that has no subnets and no groups but its default one.
func (s *Service) DeleteVpc(ctx context.Context, in *ec2api.DeleteVpcRequest) (*ec2api.DeleteVpcOutput, error) {
	id := deref(in.VpcId)
	if err := checkID(id, "vpc", "InvalidVpcID.Malformed"); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if _, err := tx.GetVPC(ctx, account, id); err != nil {
			return vpcErr(err, id)
		}
		if err := vpcDependencies(ctx, tx, account, id); err != nil {
			return err
		}
		if err := routeTableDependencies(ctx, tx, account, id); err != nil {
			return err
		}
		if err := tx.DeleteMainRouteTable(ctx, account, id); err != nil {
			return err
		}
		if err := deleteVPCNetworkACLs(ctx, tx, account, id); err != nil {
			return err
		}
		return vpcErr(tx.DeleteVPC(ctx, account, id), id)
	})
	return &ec2api.DeleteVpcOutput{}, err
}

func vpcErr(err error, id string) error {
	if errors.Is(err, store.ErrInUse) {
		return errDependency("The vpc '%s' has dependencies and cannot be deleted.", id)
	}
	if found, e := notFoundOK(err); !found && e == nil {
		return errVPCNotFound(id)
	}
	return err
}

func vpcDependencies(ctx context.Context, tx *store.Tx, account, id string) error {
	subnets, err := tx.ListSubnets(ctx, account)
	if err != nil {
		return err
	}
	for _, sn := range subnets {
		if sn.VPCID == id {
			return errDependency("The vpc '%s' has dependencies and cannot be deleted.", id)
		}
	}
	groups, err := tx.ListSecurityGroups(ctx, account)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if g.VPCID == id && g.Name != "default" {
			return errDependency("The vpc '%s' has dependencies and cannot be deleted.", id)
		}
	}
	return nil
}

func cidrAssociationID(vpcID string) string {
	return "vpc-cidr-assoc-" + strings.TrimPrefix(vpcID, "vpc-")
}

func apiVPC(v store.VPC, dhcpOptionsID string, tags []store.Tag) *ec2api.Vpc {
	return &ec2api.Vpc{
		VpcId:           str(v.ID),
		OwnerId:         str(v.AccountID),
		CidrBlock:       str(v.CIDRBlock),
		State:           str(v.State),
		DhcpOptionsId:   str(dhcpOptionsID),
		InstanceTenancy: str(v.InstanceTenancy),
		IsDefault:       boolp(v.IsDefault),
		CidrBlockAssociationSet: []ec2api.VpcCidrBlockAssociation{{
			AssociationId:  str(cidrAssociationID(v.ID)),
			CidrBlock:      str(v.CIDRBlock),
			CidrBlockState: &ec2api.VpcCidrBlockState{State: str("associated")},
		}},
		Tags: apiTags(tags),
	}
}

// vpcFields are DescribeVpcs' filters; dopts maps VPCs to their DHCP options set.
func vpcFields(dopts map[string]string) filter.Fields[store.VPC] {
	return filter.Fields[store.VPC]{
		"vpc-id":                                func(v store.VPC) []string { return filter.One(v.ID) },
		"cidr":                                  func(v store.VPC) []string { return filter.One(v.CIDRBlock) },
		"cidr-block-association.cidr-block":     func(v store.VPC) []string { return filter.One(v.CIDRBlock) },
		"cidr-block-association.association-id": func(v store.VPC) []string { return filter.One(cidrAssociationID(v.ID)) },
		"cidr-block-association.state":          func(v store.VPC) []string { return filter.One("associated") },
		"dhcp-options-id":                       func(v store.VPC) []string { return filter.One(dhcpOptionsOf(dopts, v.ID)) },
		"is-default":                            func(v store.VPC) []string { return filter.Bool(v.IsDefault) },
		"isDefault":                             func(v store.VPC) []string { return filter.Bool(v.IsDefault) },
		"owner-id":                              func(v store.VPC) []string { return filter.One(v.AccountID) },
		"state":                                 func(v store.VPC) []string { return filter.One(v.State) },
		"instance-tenancy":                      func(v store.VPC) []string { return filter.One(v.InstanceTenancy) },
	}
}

// DescribeVpcs lists the caller's VPCs.
func (s *Service) DescribeVpcs(ctx context.Context, in *ec2api.DescribeVpcsRequest) (*ec2api.DescribeVpcsResult, error) {
	dopts := map[string]string{}
	q := taggedQuery[store.VPC]{rtype: typeVPC, idsParam: "vpcIds", fields: vpcFields(dopts), notFound: errVPCNotFound,
		list: func(tx *store.Tx) func(context.Context, string) ([]store.VPC, error) {
			return listVPCsWithDHCP(tx, dopts)
		},
		id: func(v store.VPC) string { return v.ID }}
	page, tags, next, err := q.run(ctx, s, in.VpcIds, in.Filters, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVpcsResult{Vpcs: []ec2api.Vpc{}, NextToken: next}
	for _, v := range page {
		out.Vpcs = append(out.Vpcs, *apiVPC(v, dhcpOptionsOf(dopts, v.ID), tags[v.ID]))
	}
	return out, nil
}

// DescribeVpcAttribute reports one DNS attribute of a VPC.
func (s *Service) DescribeVpcAttribute(ctx context.Context, in *ec2api.DescribeVpcAttributeRequest) (*ec2api.DescribeVpcAttributeResult, error) {
	id := deref(in.VpcId)
	var vpc store.VPC
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) (err error) {
		vpc, err = tx.GetVPC(ctx, account, id)
		return vpcErr(err, id)
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVpcAttributeResult{VpcId: str(vpc.ID)}
	switch deref(in.Attribute) {
	case "enableDnsSupport":
		out.EnableDnsSupport = &ec2api.AttributeBooleanValue{Value: boolp(vpc.EnableDNSSupport)}
	case "enableDnsHostnames":
		out.EnableDnsHostnames = &ec2api.AttributeBooleanValue{Value: boolp(vpc.EnableDNSHostnames)}
	case "enableNetworkAddressUsageMetrics":
		out.EnableNetworkAddressUsageMetrics = &ec2api.AttributeBooleanValue{Value: boolp(false)}
	default:
		return nil, invalid("Value (%s) for parameter attribute is invalid. Valid values: enableDnsSupport, enableDnsHostnames, enableNetworkAddressUsageMetrics.", deref(in.Attribute))
	}
	return out, nil
}

// ModifyVpcAttribute changes one DNS attribute of a VPC.
func (s *Service) ModifyVpcAttribute(ctx context.Context, in *ec2api.ModifyVpcAttributeRequest) (*ec2api.ModifyVpcAttributeOutput, error) {
	set := 0
	for _, a := range []*ec2api.AttributeBooleanValue{in.EnableDnsSupport, in.EnableDnsHostnames, in.EnableNetworkAddressUsageMetrics} {
		if a != nil {
			set++
		}
	}
	if set != 1 {
		return nil, apiErr("InvalidParameterCombination", "Exactly one attribute can be modified at a time")
	}
	if in.EnableNetworkAddressUsageMetrics != nil && deref2(in.EnableNetworkAddressUsageMetrics.Value) {
		return nil, apiErr("UnsupportedOperation", "Network address usage metrics are not supported by Kumo yet.")
	}
	id := deref(in.VpcId)
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		vpc, err := tx.GetVPC(ctx, account, id)
		if err != nil {
			return vpcErr(err, id)
		}
		if in.EnableDnsSupport != nil {
			vpc.EnableDNSSupport = deref2(in.EnableDnsSupport.Value)
		}
		if in.EnableDnsHostnames != nil {
			vpc.EnableDNSHostnames = deref2(in.EnableDnsHostnames.Value)
		}
		return tx.SetVPCAttribute(ctx, account, id, vpc.EnableDNSSupport, vpc.EnableDNSHostnames)
	})
	return &ec2api.ModifyVpcAttributeOutput{}, err
}

func deref2(b *bool) bool { return b != nil && *b }

// vpcPrefix parses a stored VPC range.
func vpcPrefix(v store.VPC) netip.Prefix { return netip.MustParsePrefix(v.CIDRBlock) }
