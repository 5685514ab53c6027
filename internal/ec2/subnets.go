package ec2

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// zoneID names a zone as AWS's zone ids do: kumo1-az1 for kumo-1a.
func (s *Service) zoneID(zone string) string {
	i := slices.Index(s.Cfg.Zones, zone)
	return strings.ReplaceAll(s.Cfg.Region, "-", "") + "-az" + strconv.Itoa(i+1)
}

// resolveZone picks the subnet's zone from AvailabilityZone or AvailabilityZoneId.
func (s *Service) resolveZone(name, id *string) (string, error) {
	switch {
	case name != nil:
		if !slices.Contains(s.Cfg.Zones, *name) {
			return "", invalid("Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: %s.", *name, strings.Join(s.Cfg.Zones, ", "))
		}
		return *name, nil
	case id != nil:
		for _, z := range s.Cfg.Zones {
			if s.zoneID(z) == *id {
				return z, nil
			}
		}
		return "", invalid("Value (%s) for parameter availabilityZoneId is invalid.", *id)
	}
	return s.Cfg.Zones[0], nil
}

// CreateSubnet makes a subnet inside a VPC, checking AWS's range rules.
func (s *Service) CreateSubnet(ctx context.Context, in *ec2api.CreateSubnetRequest) (*ec2api.CreateSubnetResult, error) {
	vpcID := deref(in.VpcId)
	if err := checkID(vpcID, "vpc", "InvalidVpcID.Malformed"); err != nil {
		return nil, err
	}
	if in.CidrBlock == nil {
		return nil, apiErr("MissingParameter", "The request must contain the parameter CidrBlock")
	}
	if in.Ipv6CidrBlock != nil || deref2(in.Ipv6Native) {
		return nil, apiErr("UnsupportedOperation", "IPv6 subnets are not supported by Kumo yet.")
	}
	p, err := parseCIDR("cidrBlock", *in.CidrBlock)
	if err != nil {
		return nil, err
	}
	if p.Bits() < 16 || p.Bits() > 28 {
		return nil, apiErr("InvalidSubnet.Range", "The CIDR '%s' is invalid. A subnet's size must be between /16 and /28.", p)
	}
	zone, err := s.resolveZone(in.AvailabilityZone, in.AvailabilityZoneId)
	if err != nil {
		return nil, err
	}
	tags, err := specTags(in.TagSpecifications, typeSubnet)
	if err != nil {
		return nil, err
	}
	sub := store.Subnet{ID: ids.Resource("subnet"), VPCID: vpcID, CIDRBlock: p.String(), AvailabilityZone: zone, State: "available", CreatedAt: time.Now().UTC()}
	var rows []store.Tag
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		sub.AccountID = account
		if err := checkSubnetRange(ctx, tx, account, vpcID, p); err != nil {
			return err
		}
		if err := tx.InsertSubnet(ctx, sub); err != nil {
			return err
		}
		if err := associateDefaultNetworkACL(ctx, tx, sub); err != nil {
			return err
		}
		rows, err = putTags(ctx, tx, account, sub.ID, typeSubnet, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateSubnetResult{Subnet: s.apiSubnet(sub, rows, nil)}, nil
}

// checkSubnetRange enforces: inside the VPC, no overlap with a sibling.
func checkSubnetRange(ctx context.Context, tx *store.Tx, account, vpcID string, p netip.Prefix) error {
	vpc, err := tx.GetVPC(ctx, account, vpcID)
	if err != nil {
		return vpcErr(err, vpcID)
	}
	if !within(p, vpcPrefix(vpc)) {
		return apiErr("InvalidSubnet.Range", "The CIDR '%s' is invalid. It must lie within the VPC's range %s.", p, vpc.CIDRBlock)
	}
	subnets, err := tx.ListSubnets(ctx, account)
	if err != nil {
		return err
	}
	for _, other := range subnets {
		if other.VPCID == vpcID && netip.MustParsePrefix(other.CIDRBlock).Overlaps(p) {
			return apiErr("InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", p)
		}
	}
	return nil
}

// DeleteSubnet removes a subnet. (Instances, which would depend on it, come with the compute API.)
func (s *Service) DeleteSubnet(ctx context.Context, in *ec2api.DeleteSubnetRequest) (*ec2api.DeleteSubnetOutput, error) {
	id := deref(in.SubnetId)
	if err := checkID(id, "subnet", "InvalidSubnetID.Malformed"); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if err := tx.SettleTerminatedInterfaces(ctx, account); err != nil {
			return err
		}
		if used, err := tx.SubnetHasInterfaces(ctx, id); err != nil || used {
			return cmp.Or(err, errDependency("The subnet '%s' has dependencies and cannot be deleted.", id))
		}
		if err := tx.DeleteSubnetAssociation(ctx, account, id); err != nil {
			return err
		}
		if found, err := notFoundOK(tx.DeleteSubnet(ctx, account, id)); !found {
			if err != nil {
				return err
			}
			return errSubnetNotFound(id)
		}
		return nil
	})
	return &ec2api.DeleteSubnetOutput{}, err
}

func (s *Service) subnetARN(sub store.Subnet) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", s.Cfg.Region, sub.AccountID, sub.ID)
}

// availableAddresses is a subnet's AvailableIpAddressCount: its usable
// addresses less those its interfaces hold (used: by subnet id).
func availableAddresses(sub store.Subnet, used map[string]int) int32 {
	return max(usableAddresses(netip.MustParsePrefix(sub.CIDRBlock))-int32(used[sub.ID]), 0)
}

func (s *Service) apiSubnet(sub store.Subnet, tags []store.Tag, used map[string]int) *ec2api.Subnet {
	return &ec2api.Subnet{
		SubnetId:                    str(sub.ID),
		SubnetArn:                   str(s.subnetARN(sub)),
		VpcId:                       str(sub.VPCID),
		OwnerId:                     str(sub.AccountID),
		CidrBlock:                   str(sub.CIDRBlock),
		AvailabilityZone:            str(sub.AvailabilityZone),
		AvailabilityZoneId:          str(s.zoneID(sub.AvailabilityZone)),
		AvailableIpAddressCount:     i32(availableAddresses(sub, used)),
		DefaultForAz:                boolp(sub.DefaultForAZ),
		MapPublicIpOnLaunch:         boolp(sub.MapPublicIPOnLaunch),
		MapCustomerOwnedIpOnLaunch:  boolp(false),
		AssignIpv6AddressOnCreation: boolp(false),
		EnableDns64:                 boolp(false),
		Ipv6Native:                  boolp(false),
		State:                       str(sub.State),
		Ipv6CidrBlockAssociationSet: []ec2api.SubnetIpv6CidrBlockAssociation{},
		PrivateDnsNameOptionsOnLaunch: &ec2api.PrivateDnsNameOptionsOnLaunch{
			HostnameType:                    str("ip-name"),
			EnableResourceNameDnsARecord:    boolp(false),
			EnableResourceNameDnsAAAARecord: boolp(false),
		},
		Tags: apiTags(tags),
	}
}

func (s *Service) subnetFields(used map[string]int) filter.Fields[store.Subnet] {
	one := func(f func(store.Subnet) string) func(store.Subnet) []string {
		return func(sn store.Subnet) []string { return filter.One(f(sn)) }
	}
	cidr := one(func(sn store.Subnet) string { return sn.CIDRBlock })
	def := func(sn store.Subnet) []string { return filter.Bool(sn.DefaultForAZ) }
	return filter.Fields[store.Subnet]{
		"availability-zone":    one(func(sn store.Subnet) string { return sn.AvailabilityZone }),
		"availabilityZone":     one(func(sn store.Subnet) string { return sn.AvailabilityZone }),
		"availability-zone-id": one(func(sn store.Subnet) string { return s.zoneID(sn.AvailabilityZone) }),
		"available-ip-address-count": one(func(sn store.Subnet) string {
			return strconv.Itoa(int(availableAddresses(sn, used)))
		}),
		"cidr":                    cidr,
		"cidr-block":              cidr,
		"cidrBlock":               cidr,
		"default-for-az":          def,
		"defaultForAz":            def,
		"map-public-ip-on-launch": func(sn store.Subnet) []string { return filter.Bool(sn.MapPublicIPOnLaunch) },
		"owner-id":                one(func(sn store.Subnet) string { return sn.AccountID }),
		"state":                   one(func(sn store.Subnet) string { return sn.State }),
		"subnet-arn":              one(s.subnetARN),
		"subnet-id":               one(func(sn store.Subnet) string { return sn.ID }),
		"vpc-id":                  one(func(sn store.Subnet) string { return sn.VPCID }),
		"ipv6-native":             func(store.Subnet) []string { return filter.Bool(false) },
		"ipv6-cidr-block-association.ipv6-cidr-block": func(store.Subnet) []string { return nil },
	}
}

// DescribeSubnets lists the caller's subnets.
func (s *Service) DescribeSubnets(ctx context.Context, in *ec2api.DescribeSubnetsRequest) (*ec2api.DescribeSubnetsResult, error) {
	used := map[string]int{}
	q := taggedQuery[store.Subnet]{rtype: typeSubnet, idsParam: "subnetIds", fields: s.subnetFields(used), notFound: errSubnetNotFound,
		list: func(tx *store.Tx) func(context.Context, string) ([]store.Subnet, error) {
			return func(ctx context.Context, account string) ([]store.Subnet, error) {
				inUse, err := tx.SubnetAddressesInUse(ctx, account)
				if err != nil {
					return nil, err
				}
				maps.Copy(used, inUse)
				return tx.ListSubnets(ctx, account)
			}
		},
		id: func(sn store.Subnet) string { return sn.ID }}
	page, tags, next, err := q.run(ctx, s, in.SubnetIds, in.Filters, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeSubnetsResult{Subnets: []ec2api.Subnet{}, NextToken: next}
	for _, sn := range page {
		out.Subnets = append(out.Subnets, *s.apiSubnet(sn, tags[sn.ID], used))
	}
	return out, nil
}

// ModifySubnetAttribute changes one attribute of a subnet at a time.
// Kumo implements MapPublicIpOnLaunch; the others are accepted only with
// the values DescribeSubnets always shows (off, ip-name), and refused
// with UnsupportedOperation otherwise.
func (s *Service) ModifySubnetAttribute(ctx context.Context, in *ec2api.ModifySubnetAttributeRequest) (*ec2api.ModifySubnetAttributeOutput, error) {
	id := deref(in.SubnetId)
	if id == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter SubnetId")
	}
	if err := checkID(id, "subnet", "InvalidSubnetID.Malformed"); err != nil {
		return nil, err
	}
	if err := checkSubnetAttributes(in); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		subnets, err := tx.ListSubnets(ctx, account)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(subnets, func(sn store.Subnet) bool { return sn.ID == id }) {
			return errSubnetNotFound(id)
		}
		if in.MapPublicIpOnLaunch == nil {
			return nil // an attribute left at its only value
		}
		return tx.SetSubnetMapPublicIP(ctx, account, id, *in.MapPublicIpOnLaunch.Value)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifySubnetAttributeOutput{}, nil
}

// checkSubnetAttributes wants exactly one attribute, with a value Kumo
// supports.
func checkSubnetAttributes(in *ec2api.ModifySubnetAttributeRequest) error {
	bools := []struct {
		name string
		v    *ec2api.AttributeBooleanValue
	}{
		{"MapPublicIpOnLaunch", in.MapPublicIpOnLaunch},
		{"AssignIpv6AddressOnCreation", in.AssignIpv6AddressOnCreation},
		{"MapCustomerOwnedIpOnLaunch", in.MapCustomerOwnedIpOnLaunch},
		{"EnableDns64", in.EnableDns64},
		{"EnableResourceNameDnsARecordOnLaunch", in.EnableResourceNameDnsARecordOnLaunch},
		{"EnableResourceNameDnsAAAARecordOnLaunch", in.EnableResourceNameDnsAAAARecordOnLaunch},
		{"DisableLniAtDeviceIndex", in.DisableLniAtDeviceIndex},
	}
	set := 0
	for _, b := range bools {
		if b.v != nil {
			set++
		}
	}
	if in.PrivateDnsHostnameTypeOnLaunch != nil {
		set++
	}
	if in.EnableLniAtDeviceIndex != nil {
		set++
	}
	if set != 1 {
		return apiErr("InvalidParameterCombination", "Exactly one attribute can be modified at a time")
	}
	for _, b := range bools {
		switch {
		case b.v == nil:
		case b.v.Value == nil:
			return apiErr("MissingParameter", "The request must contain the parameter %s.Value", b.name)
		case b.name != "MapPublicIpOnLaunch" && *b.v.Value:
			return apiErr("UnsupportedOperation", "The subnet attribute %s is not supported by Kumo.", b.name)
		}
	}
	if in.CustomerOwnedIpv4Pool != nil {
		return apiErr("UnsupportedOperation", "Customer-owned IPv4 pools are not supported by Kumo.")
	}
	if in.EnableLniAtDeviceIndex != nil {
		return apiErr("UnsupportedOperation", "The subnet attribute EnableLniAtDeviceIndex is not supported by Kumo.")
	}
	switch t := deref(in.PrivateDnsHostnameTypeOnLaunch); {
	case in.PrivateDnsHostnameTypeOnLaunch == nil, t == "ip-name":
	case t == "resource-name":
		return apiErr("UnsupportedOperation", "Resource-based host names are not supported by Kumo.")
	default:
		return invalid("Value (%s) for parameter PrivateDnsHostnameTypeOnLaunch is invalid. Valid values: ip-name, resource-name.", t)
	}
	return nil
}
