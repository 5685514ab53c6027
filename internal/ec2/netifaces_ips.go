package ec2

import (
	"context"
	"errors"
	"net/netip"
	"slices"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/store"
)

// AssignPrivateIpAddresses gives an interface more private addresses: the
// ones named (moved from another interface of the subnet only with
// AllowReassignment) or a number of free ones, within the limit of the
// instance type it is attached to.
func (s *Service) AssignPrivateIpAddresses(ctx context.Context, in *ec2api.AssignPrivateIpAddressesRequest) (*ec2api.AssignPrivateIpAddressesResult, error) {
	if err := checkAssign(in); err != nil {
		return nil, err
	}
	var assigned []string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		n, err := settledENI(ctx, tx, account, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		assigned, err = assignIPs(ctx, tx, n, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.notifyAll() // new addresses join the VPC's peers and the interface's groups
	out := &ec2api.AssignPrivateIpAddressesResult{NetworkInterfaceId: in.NetworkInterfaceId, AssignedPrivateIpAddresses: []ec2api.AssignedPrivateIpAddress{}}
	for _, ip := range assigned {
		out.AssignedPrivateIpAddresses = append(out.AssignedPrivateIpAddresses, ec2api.AssignedPrivateIpAddress{PrivateIpAddress: str(ip)})
	}
	return out, nil
}

func checkAssign(in *ec2api.AssignPrivateIpAddressesRequest) error {
	if err := checkENIID(deref(in.NetworkInterfaceId)); err != nil {
		return err
	}
	switch {
	case len(in.Ipv4Prefixes) > 0 || in.Ipv4PrefixCount != nil:
		return invalid("Prefix delegation is not supported.")
	case len(in.PrivateIpAddresses) > 0 && in.SecondaryPrivateIpAddressCount != nil:
		return apiErr("InvalidParameterCombination", "You may specify either PrivateIpAddress or SecondaryPrivateIpAddressCount, but not both.")
	case len(in.PrivateIpAddresses) == 0 && in.SecondaryPrivateIpAddressCount == nil:
		return apiErr("MissingParameter", "The request must contain the parameter PrivateIpAddress or SecondaryPrivateIpAddressCount")
	case in.SecondaryPrivateIpAddressCount != nil && *in.SecondaryPrivateIpAddressCount < 1:
		return invalid("Value (%d) for parameter SecondaryPrivateIpAddressCount is invalid. Expected a positive number.", *in.SecondaryPrivateIpAddressCount)
	}
	return nil
}

// assignIPs checks and stores the new addresses of n.
func assignIPs(ctx context.Context, tx *store.Tx, n store.NetworkInterface, in *ec2api.AssignPrivateIpAddressesRequest) ([]string, error) {
	var want []string
	for _, ip := range in.PrivateIpAddresses {
		if !slices.Contains(n.AllIPs(), ip) && !slices.Contains(want, ip) {
			want = append(want, ip) // already the interface's: nothing to do
		}
	}
	count := 0
	if in.SecondaryPrivateIpAddressCount != nil {
		count = int(*in.SecondaryPrivateIpAddressCount)
	}
	limit, err := ipLimit(ctx, tx, n)
	if err != nil {
		return nil, err
	}
	if len(n.AllIPs())+len(want)+count > limit {
		return nil, errIPLimit()
	}
	if deref2(in.AllowReassignment) {
		if err := takeBack(ctx, tx, n, want); err != nil {
			return nil, err
		}
	}
	sn, err := findSubnet(ctx, tx, n.AccountID, n.SubnetID)
	if err != nil {
		return nil, err
	}
	prefix, used, err := subnetSpace(ctx, tx, sn)
	if err != nil {
		return nil, err
	}
	ips, err := pickIPs(prefix, used, want, count)
	if err != nil {
		return nil, err
	}
	return ips, tx.AddSecondaryIPs(ctx, n, ips)
}

// ipLimit is how many private addresses n may have.
func ipLimit(ctx context.Context, tx *store.Tx, n store.NetworkInterface) (int, error) {
	if !n.Attached() {
		return maxDetachedIPs, nil
	}
	inst, err := tx.GetInstance(ctx, n.AccountID, n.InstanceID)
	if err != nil {
		return 0, err
	}
	return limitsOf(inst.InstanceType, inst.VCPUs).ipsPerInterface, nil
}

// takeBack unassigns the wanted addresses that are secondary addresses of
// the account's other interfaces on the subnet (AllowReassignment). A
// primary address never moves.
func takeBack(ctx context.Context, tx *store.Tx, n store.NetworkInterface, want []string) error {
	for _, ip := range want {
		if _, err := netip.ParseAddr(ip); err != nil {
			continue // checkRequestedIP reports it
		}
		h, err := tx.SubnetIPHolder(ctx, n.SubnetID, ip)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if h.Secondary && h.AccountID == n.AccountID {
			if err := unassignIPs(ctx, tx, h.InterfaceID, []string{ip}); err != nil {
				return err
			}
		}
	}
	return nil
}

// unassignIPs removes secondary addresses and disassociates the elastic
// IPs mapped to them, as EC2 does.
func unassignIPs(ctx context.Context, tx *store.Tx, interfaceID string, ips []string) error {
	eips, err := tx.NetworkInterfaceAddresses(ctx, interfaceID)
	if err != nil {
		return err
	}
	for _, a := range eips {
		if slices.Contains(ips, a.PrivateIP) {
			if err := tx.SetAddressAssociation(ctx, store.Address{AccountID: a.AccountID, AllocationID: a.AllocationID}); err != nil {
				return err
			}
		}
	}
	return tx.RemoveSecondaryIPs(ctx, interfaceID, ips)
}

// UnassignPrivateIpAddresses removes secondary private addresses from an
// interface; every one named must be one of its secondary addresses.
func (s *Service) UnassignPrivateIpAddresses(ctx context.Context, in *ec2api.UnassignPrivateIpAddressesRequest) (*ec2api.UnassignPrivateIpAddressesOutput, error) {
	if err := checkENIID(deref(in.NetworkInterfaceId)); err != nil {
		return nil, err
	}
	if len(in.Ipv4Prefixes) > 0 {
		return nil, invalid("Prefix delegation is not supported.")
	}
	if len(in.PrivateIpAddresses) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter PrivateIpAddress")
	}
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		n, err := getENI(ctx, tx, account, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		for _, ip := range in.PrivateIpAddresses {
			if ip == n.PrivateIP {
				return invalid("The primary private IP address %s of network interface %s cannot be unassigned.", ip, n.ID)
			}
			if !slices.Contains(n.SecondaryIPs, ip) {
				return invalid("Some of the specified addresses are not assigned to interface %s", n.ID)
			}
		}
		return unassignIPs(ctx, tx, n.ID, in.PrivateIpAddresses)
	})
	if err != nil {
		return nil, err
	}
	s.notifyAll()
	return &ec2api.UnassignPrivateIpAddressesOutput{}, nil
}
