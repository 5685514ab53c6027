package ec2

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// maxDescription is the longest interface description EC2 takes.
const maxDescription = 255

func errENINotFound(id string) error {
	return apiErr("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
}

func errENIInUse(id string) error {
	return apiErr("InvalidNetworkInterface.InUse", "Interface: [%s] in use.", id)
}

func checkENIID(id string) error {
	if id == "" {
		return apiErr("MissingParameter", "The request must contain the parameter NetworkInterfaceId")
	}
	return checkID(id, "eni", "InvalidNetworkInterfaceID.Malformed")
}

// settledENI is getENI after the interfaces of terminated instances are
// settled (deleted or detached), as every interface action sees them.
func settledENI(ctx context.Context, tx *store.Tx, account, id string) (store.NetworkInterface, error) {
	if err := tx.SettleTerminatedInterfaces(ctx, account); err != nil {
		return store.NetworkInterface{}, err
	}
	return getENI(ctx, tx, account, id)
}

// getENI finds one of the account's interfaces.
func getENI(ctx context.Context, tx *store.Tx, account, id string) (store.NetworkInterface, error) {
	if err := checkENIID(id); err != nil {
		return store.NetworkInterface{}, err
	}
	n, err := tx.GetNetworkInterface(ctx, account, id)
	if errors.Is(err, store.ErrNotFound) {
		return n, errENINotFound(id)
	}
	return n, err
}

// eniRequest is a checked CreateNetworkInterface.
type eniRequest struct {
	subnetID    string
	description string
	primary     string   // requested primary address, '' to allocate
	secondaries []string // requested secondary addresses
	count       int      // secondary addresses to allocate
	groups      []string
	tags        []ec2api.Tag
	token       string
}

func parseCreateENI(in *ec2api.CreateNetworkInterfaceRequest) (eniRequest, error) {
	r := eniRequest{subnetID: deref(in.SubnetId), description: deref(in.Description), primary: deref(in.PrivateIpAddress),
		groups: in.Groups, token: deref(in.ClientToken)}
	switch {
	case r.subnetID == "":
		return r, apiErr("MissingParameter", "The request must contain the parameter SubnetId")
	case len(r.description) > maxDescription:
		return r, invalid("Value for parameter Description is too long (maximum %d characters).", maxDescription)
	case len(in.Ipv6Addresses) > 0 || (in.Ipv6AddressCount != nil && *in.Ipv6AddressCount > 0) || deref2(in.EnablePrimaryIpv6):
		return r, invalid("The subnet %s has no IPv6 CIDR block: IPv6 addresses cannot be assigned.", r.subnetID)
	case len(in.Ipv4Prefixes) > 0 || in.Ipv4PrefixCount != nil || len(in.Ipv6Prefixes) > 0 || in.Ipv6PrefixCount != nil:
		return r, invalid("Prefix delegation is not supported.")
	case in.InterfaceType != nil && *in.InterfaceType != "interface":
		return r, invalid("Value (%s) for parameter InterfaceType is invalid.", *in.InterfaceType)
	}
	if err := checkID(r.subnetID, "subnet", "InvalidSubnetID.Malformed"); err != nil {
		return r, err
	}
	for _, p := range in.PrivateIpAddresses {
		ip := deref(p.PrivateIpAddress)
		if deref2(p.Primary) {
			if r.primary != "" && r.primary != ip {
				return r, invalid("Only one primary private IP address can be specified.")
			}
			r.primary = ip
			continue
		}
		r.secondaries = append(r.secondaries, ip)
	}
	if in.SecondaryPrivateIpAddressCount != nil {
		if *in.SecondaryPrivateIpAddressCount < 1 {
			return r, invalid("Value (%d) for parameter SecondaryPrivateIpAddressCount is invalid. Expected a positive number.", *in.SecondaryPrivateIpAddressCount)
		}
		r.count = int(*in.SecondaryPrivateIpAddressCount)
	}
	if 1+len(r.secondaries)+r.count > maxDetachedIPs {
		return r, errIPLimit()
	}
	var err error
	r.tags, err = specTags(in.TagSpecifications, typeInterface)
	return r, err
}

// CreateNetworkInterface makes a detached interface on a subnet with the
// requested (or the lowest free) addresses and the VPC's default group
// unless groups are named. A ClientToken seen before returns the
// interface it made.
func (s *Service) CreateNetworkInterface(ctx context.Context, in *ec2api.CreateNetworkInterfaceRequest) (*ec2api.CreateNetworkInterfaceResult, error) {
	r, err := parseCreateENI(in)
	if err != nil {
		return nil, err
	}
	var v eniView
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if err := tx.SettleTerminatedInterfaces(ctx, account); err != nil {
			return err
		}
		if r.token != "" {
			found, err := eniByToken(ctx, tx, account, r)
			if found.ID != "" || err != nil {
				v.NetworkInterface = found
				return err
			}
		}
		v.NetworkInterface, err = createENI(ctx, tx, account, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	d, err := s.loadENIData(ctx)
	if err != nil {
		return nil, err
	}
	out := &ec2api.CreateNetworkInterfaceResult{NetworkInterface: s.apiENI(d.view(v.NetworkInterface))}
	if r.token != "" {
		out.ClientToken = str(r.token)
	}
	return out, nil
}

// eniByToken returns the interface an earlier request with the same
// ClientToken made (zero when none).
func eniByToken(ctx context.Context, tx *store.Tx, account string, r eniRequest) (store.NetworkInterface, error) {
	list, err := tx.ListNetworkInterfaces(ctx, account)
	if err != nil {
		return store.NetworkInterface{}, err
	}
	for _, n := range list {
		if n.ClientToken == r.token {
			if n.SubnetID != r.subnetID || n.Description != r.description || (r.primary != "" && r.primary != n.PrivateIP) {
				return n, errIdempotentMismatch(r.token)
			}
			return n, nil
		}
	}
	return store.NetworkInterface{}, nil
}

func createENI(ctx context.Context, tx *store.Tx, account string, r eniRequest) (store.NetworkInterface, error) {
	sn, err := findSubnet(ctx, tx, account, r.subnetID)
	if err != nil {
		return store.NetworkInterface{}, err
	}
	groups, err := vpcGroups(ctx, tx, account, sn.VPCID, r.groups)
	if err != nil {
		return store.NetworkInterface{}, err
	}
	prefix, used, err := subnetSpace(ctx, tx, sn)
	if err != nil {
		return store.NetworkInterface{}, err
	}
	ips, err := pickIPs(prefix, used, append([]string{r.primary}, r.secondaries...), r.count)
	if err != nil {
		return store.NetworkInterface{}, err
	}
	mac, err := freeMAC(ctx, tx)
	if err != nil {
		return store.NetworkInterface{}, err
	}
	n := store.NetworkInterface{ID: ids.Resource("eni"), AccountID: account, SubnetID: sn.ID, VPCID: sn.VPCID, PrivateIP: ips[0],
		MAC: mac, CreatedAt: time.Now().UTC(), Description: r.description, ClientToken: r.token, Zone: sn.AvailabilityZone}
	if err := tx.InsertNetworkInterface(ctx, n); err != nil {
		return n, err
	}
	if err := tx.AddSecondaryIPs(ctx, n, ips[1:]); err != nil {
		return n, err
	}
	if err := tx.SetNetworkInterfaceGroups(ctx, n.ID, groups); err != nil {
		return n, err
	}
	if _, err := putTags(ctx, tx, account, n.ID, typeInterface, r.tags); err != nil {
		return n, err
	}
	return tx.GetNetworkInterface(ctx, account, n.ID)
}

// findSubnet finds one of the account's subnets.
func findSubnet(ctx context.Context, tx *store.Tx, account, id string) (store.Subnet, error) {
	subnets, err := tx.ListSubnets(ctx, account)
	return findOwned(subnets, err, id, func(s store.Subnet) string { return s.ID }, errSubnetNotFound)
}

// vpcGroups checks security group ids for an interface in a VPC; none
// means the VPC's default group. The result keeps the order given.
func vpcGroups(ctx context.Context, tx *store.Tx, account, vpcID string, want []string) ([]string, error) {
	groups, err := tx.ListSecurityGroups(ctx, account)
	if err != nil {
		return nil, err
	}
	if len(want) == 0 {
		i := slices.IndexFunc(groups, func(g store.SecurityGroup) bool { return g.Name == "default" && g.VPCID == vpcID })
		if i < 0 {
			return nil, errGroupNameNotFound("default", vpcID)
		}
		return []string{groups[i].ID}, nil
	}
	var out []string
	for _, id := range want {
		if err := checkID(id, "sg", "InvalidGroupId.Malformed"); err != nil {
			return nil, err
		}
		i := slices.IndexFunc(groups, func(g store.SecurityGroup) bool { return g.ID == id })
		if i < 0 {
			return nil, errGroupNotFound(id)
		}
		if groups[i].VPCID != vpcID {
			return nil, invalid("The security group '%s' does not belong to VPC '%s'.", id, vpcID)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// subnetSpace is a subnet's range and the addresses taken on it.
func subnetSpace(ctx context.Context, tx *store.Tx, sn store.Subnet) (netip.Prefix, []string, error) {
	used, err := tx.SubnetPrivateIPs(ctx, sn.ID)
	if err != nil {
		return netip.Prefix{}, nil, err
	}
	prefix, err := netip.ParsePrefix(sn.CIDRBlock)
	if err != nil {
		return prefix, nil, fmt.Errorf("subnet %s cidr %q: %w", sn.ID, sn.CIDRBlock, err)
	}
	return prefix, used, nil
}

// pickIPs checks the wanted addresses (an empty one: allocate) and allocates
// count more, the lowest free first; each address counts as used for the
// next.
func pickIPs(prefix netip.Prefix, used, want []string, count int) ([]string, error) {
	used = slices.Clone(used)
	var out []string
	take := func(want string) error {
		var ip netip.Addr
		var err error
		if want == "" {
			ip, err = nextFreeIP(prefix, used)
		} else {
			ip, err = checkRequestedIP(prefix, want, used)
		}
		if err != nil {
			return err
		}
		out, used = append(out, ip.String()), append(used, ip.String())
		return nil
	}
	for _, w := range want {
		if err := take(w); err != nil {
			return nil, err
		}
	}
	for range count {
		if err := take(""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DeleteNetworkInterface deletes a detached interface.
func (s *Service) DeleteNetworkInterface(ctx context.Context, in *ec2api.DeleteNetworkInterfaceRequest) (*ec2api.DeleteNetworkInterfaceOutput, error) {
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		n, err := settledENI(ctx, tx, account, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		if n.Attached() {
			return apiErr("InvalidNetworkInterface.InUse", "Network interface '%s' is currently in use.", n.ID)
		}
		return tx.DeleteNetworkInterface(ctx, account, n.ID)
	})
	if err != nil {
		return nil, err
	}
	s.notifyAll() // its addresses leave the groups it was in
	return &ec2api.DeleteNetworkInterfaceOutput{}, nil
}
