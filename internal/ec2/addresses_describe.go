package ec2

import (
	"cmp"
	"context"
	"net/netip"
	"slices"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// addressFields are DescribeAddresses' filters (besides tag:… and tag-key).
func (s *Service) addressFields() filter.Fields[store.Address] {
	one := func(f func(store.Address) string) func(store.Address) []string {
		return func(a store.Address) []string {
			if v := f(a); v != "" {
				return filter.One(v)
			}
			return nil
		}
	}
	return filter.Fields[store.Address]{
		"allocation-id":              one(func(a store.Address) string { return a.AllocationID }),
		"association-id":             one(func(a store.Address) string { return a.AssociationID }),
		"domain":                     one(func(store.Address) string { return domainVPC }),
		"instance-id":                one(func(a store.Address) string { return a.InstanceID }),
		"network-border-group":       one(func(store.Address) string { return s.Cfg.Region }),
		"network-interface-id":       one(func(a store.Address) string { return a.NetworkInterfaceID }),
		"network-interface-owner-id": one(func(a store.Address) string { return eipIfAssociated(a, a.AccountID) }),
		"private-ip-address":         one(func(a store.Address) string { return a.PrivateIP }),
		"public-ip":                  one(func(a store.Address) string { return a.PublicIP }),
		"public-ipv4-pool":           one(func(store.Address) string { return AddressPoolName }),
	}
}

func eipIfAssociated(a store.Address, v string) string {
	if a.Associated() {
		return v
	}
	return ""
}

// DescribeAddresses lists the caller's elastic IPs, by public address.
// An unknown PublicIp is InvalidAddress.NotFound, an unknown AllocationId
// InvalidAllocationID.NotFound.
func (s *Service) DescribeAddresses(ctx context.Context, in *ec2api.DescribeAddressesRequest) (*ec2api.DescribeAddressesResult, error) {
	for _, ip := range in.PublicIps {
		if a, err := netip.ParseAddr(ip); err != nil || !a.Is4() {
			return nil, invalid("Invalid value '%s' for PublicIp.", ip)
		}
	}
	list, tags, err := listTagged(ctx, s, typeAddress, func(tx *store.Tx) func(context.Context, string) ([]store.Address, error) {
		return tx.ListAddresses
	})
	if err != nil {
		return nil, err
	}
	if list, err = selectEIPs(list, in.AllocationIds, in.PublicIps); err != nil {
		return nil, err
	}
	page, _, err := describe(list, in.Filters, s.addressFields(), func(a store.Address) map[string]string { return tagMap(tags[a.AllocationID]) },
		func(a store.Address) string { return a.PublicIP }, nil, nil, paginate.Limits{Min: 5, Max: 1000})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeAddressesResult{Addresses: []ec2api.Address{}}
	for _, a := range sortEIPsByIP(page) {
		out.Addresses = append(out.Addresses, s.apiAddress(a, tags[a.AllocationID]))
	}
	return out, nil
}

// selectEIPs keeps the addresses named by allocation id or by public IP:
// with both, the union, as EC2; with neither, all of them.
func selectEIPs(list []store.Address, allocIDs, publicIPs []string) ([]store.Address, error) {
	if len(allocIDs) == 0 || len(publicIPs) == 0 {
		list, err := selectByID(list, allocIDs, func(a store.Address) string { return a.AllocationID }, errEIPAllocationNotFound)
		if err != nil {
			return nil, err
		}
		return selectByID(list, publicIPs, func(a store.Address) string { return a.PublicIP }, errEIPNotFound)
	}
	byAlloc, err := selectByID(list, allocIDs, func(a store.Address) string { return a.AllocationID }, errEIPAllocationNotFound)
	if err != nil {
		return nil, err
	}
	byIP, err := selectByID(list, publicIPs, func(a store.Address) string { return a.PublicIP }, errEIPNotFound)
	if err != nil {
		return nil, err
	}
	var out []store.Address
	for _, a := range list {
		in := func(b store.Address) bool { return b.AllocationID == a.AllocationID }
		if slices.ContainsFunc(byAlloc, in) || slices.ContainsFunc(byIP, in) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *Service) apiAddress(a store.Address, tags []store.Tag) ec2api.Address {
	out := ec2api.Address{AllocationId: str(a.AllocationID), PublicIp: str(a.PublicIP), Domain: str(domainVPC),
		PublicIpv4Pool: str(AddressPoolName), NetworkBorderGroup: str(s.Cfg.Region), Tags: apiTags(tags)}
	if a.Associated() {
		out.AssociationId, out.NetworkInterfaceId, out.PrivateIpAddress = str(a.AssociationID), str(a.NetworkInterfaceID), str(a.PrivateIP)
		out.NetworkInterfaceOwnerId = str(a.AccountID)
		out.InstanceId = optional(a.InstanceID)
	}
	return out
}

// sortEIPsByIP orders addresses numerically (paginate sorts them as strings).
func sortEIPsByIP(list []store.Address) []store.Address {
	key := func(a store.Address) uint32 {
		if ip, err := netip.ParseAddr(a.PublicIP); err == nil && ip.Is4() {
			return v4(ip)
		}
		return 0
	}
	out := slices.Clone(list)
	slices.SortStableFunc(out, func(a, b store.Address) int { return cmp.Compare(key(a), key(b)) })
	return out
}

// publicIP is the instance's elastic IP or auto-assigned public IP (empty
// when none, or terminated).
func (v instanceView) publicIP() string {
	if v.terminated() || v.eip.PrivateIP != v.eni.PrivateIP {
		return ""
	}
	return v.eip.PublicIP
}

// eipAssociation is an interface's Association element (nil without a
// public address); EC2 names "amazon" the owner of an auto-assigned one.
func (s *Service) eipAssociation(a store.Address) *ec2api.InstanceNetworkInterfaceAssociation {
	if !a.Associated() {
		return nil
	}
	return &ec2api.InstanceNetworkInterfaceAssociation{PublicIp: str(a.PublicIP), PublicDnsName: str(s.publicDNSName(a.PublicIP)),
		IpOwnerId: str(ipOwner(a))}
}
