package ec2

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/dnsname"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Elastic IP addresses: AllocateAddress draws from Config.PublicIPs, the
// rest work on the caller's allocations. Only the VPC domain exists.
const (
	typeAddress = "elastic-ip"
	// AddressLimit is how many elastic IPs an account may hold (EC2's default quota).
	AddressLimit = 5
	// AddressPoolName is the PublicIpv4Pool the operator's pool is known by.
	AddressPoolName = "kumo"
	domainVPC       = "vpc"
)

func errEIPAllocationNotFound(id string) error {
	return apiErr("InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist", id)
}

func errEIPAssociationNotFound(id string) error {
	return apiErr("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
}

func errEIPNotFound(ip string) error {
	return apiErr("InvalidAddress.NotFound", "Address '%s' not found.", ip)
}

// errEIPNotYours is EC2's answer to a public address the caller does
// not hold (free, or another account's).
func errEIPNotYours(ip string) error {
	return awsapi.NewError("AuthFailure", http.StatusBadRequest, "The address '%s' does not belong to you.", ip)
}

func errEIPInterfaceNotFound(id string) error {
	return apiErr("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
}

// AllocateAddress takes the first free address of the pool for the caller.
func (s *Service) AllocateAddress(ctx context.Context, in *ec2api.AllocateAddressRequest) (*ec2api.AllocateAddressResult, error) {
	want, err := s.checkAllocate(in)
	if err != nil {
		return nil, err
	}
	tags, err := specTags(in.TagSpecifications, typeAddress)
	if err != nil {
		return nil, err
	}
	var a store.Address
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if err := tx.LockAddresses(ctx); err != nil {
			return err
		}
		mine, err := tx.ListAddresses(ctx, account)
		if err != nil {
			return err
		}
		if len(mine) >= AddressLimit {
			return apiErr("AddressLimitExceeded", "The maximum number of addresses has been reached.")
		}
		ip, err := s.freeAddress(ctx, tx, want)
		if err != nil {
			return err
		}
		a = store.Address{AllocationID: ids.Resource("eipalloc"), AccountID: account, PublicIP: ip.String(), CreatedAt: time.Now()}
		if err := tx.InsertAddress(ctx, a); err != nil {
			return err
		}
		_, err = putTags(ctx, tx, account, a.AllocationID, typeAddress, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AllocateAddressResult{PublicIp: str(a.PublicIP), AllocationId: str(a.AllocationID), Domain: str(domainVPC),
		PublicIpv4Pool: str(AddressPoolName), NetworkBorderGroup: str(s.Cfg.Region)}, nil
}

// checkAllocate validates AllocateAddress's parameters and returns the
// address asked for (invalid when any will do).
func (s *Service) checkAllocate(in *ec2api.AllocateAddressRequest) (netip.Addr, error) {
	if d := deref(in.Domain); d != "" && d != domainVPC {
		return netip.Addr{}, invalid("Invalid value '%s' for domain. Only 'vpc' is supported.", d)
	}
	if p := deref(in.PublicIpv4Pool); p != "" && p != AddressPoolName && p != "amazon" {
		return netip.Addr{}, apiErr("InvalidPublicIpv4PoolID.NotFound", "The pool ID '%s' does not exist", p)
	}
	if g := deref(in.NetworkBorderGroup); g != "" && g != s.Cfg.Region {
		return netip.Addr{}, invalid("Invalid value '%s' for NetworkBorderGroup.", g)
	}
	if in.CustomerOwnedIpv4Pool != nil {
		return netip.Addr{}, apiErr("InvalidParameterValue", "Customer-owned IPv4 pools are not supported.")
	}
	if in.Address == nil {
		return netip.Addr{}, nil
	}
	ip, err := netip.ParseAddr(deref(in.Address))
	if err != nil || !ip.Is4() {
		return netip.Addr{}, invalid("Invalid value '%s' for Address.", deref(in.Address))
	}
	if !s.Cfg.PublicIPs.Contains(ip) {
		return netip.Addr{}, invalid("The address '%s' is not in the public IPv4 pool '%s'.", ip, AddressPoolName)
	}
	return ip, nil
}

// freeAddress returns want if it is free, else the pool's first free
// address, after returning lapsed auto-assigned public IPs to the pool;
// the caller holds LockAddresses.
func (s *Service) freeAddress(ctx context.Context, tx *store.Tx, want netip.Addr) (netip.Addr, error) {
	if _, err := tx.SweepPublicIPs(ctx); err != nil {
		return netip.Addr{}, err
	}
	allocated, err := tx.AllocatedPublicIPs(ctx)
	if err != nil {
		return netip.Addr{}, err
	}
	taken := make(map[string]bool, len(allocated))
	for _, ip := range allocated {
		taken[ip] = true
	}
	if want.IsValid() {
		if taken[want.String()] {
			return netip.Addr{}, apiErr("InvalidIPAddress.InUse", "Address '%s' is in use.", want)
		}
		return want, nil
	}
	ip, ok := s.Cfg.PublicIPs.Free(taken)
	if !ok {
		return netip.Addr{}, errPublicIPCapacity()
	}
	return ip, nil
}

// findEIP picks the caller's address by allocation id or, failing
// that, by public address.
func findEIP(list []store.Address, allocationID, publicIP string) (store.Address, error) {
	for _, a := range list {
		if (allocationID != "" && a.AllocationID == allocationID) || (allocationID == "" && a.PublicIP == publicIP) {
			return a, nil
		}
	}
	if allocationID != "" {
		return store.Address{}, errEIPAllocationNotFound(allocationID)
	}
	return store.Address{}, errEIPNotYours(publicIP)
}

// ReleaseAddress returns an address to the pool. An associated address is
// released only when its interface is in a default VPC (it is
// disassociated first), as EC2 does; elsewhere InvalidIPAddress.InUse.
func (s *Service) ReleaseAddress(ctx context.Context, in *ec2api.ReleaseAddressRequest) (*ec2api.ReleaseAddressOutput, error) {
	allocID, publicIP := deref(in.AllocationId), deref(in.PublicIp)
	if allocID == "" && publicIP == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter AllocationId")
	}
	if allocID != "" && publicIP != "" {
		return nil, apiErr("InvalidParameterCombination", "You may specify public IP or allocation id, but not both in the same call")
	}
	if g := deref(in.NetworkBorderGroup); g != "" && g != s.Cfg.Region {
		return nil, apiErr("InvalidAddress.NotFound", "The address is not in the network border group '%s'.", g)
	}
	var nodes []string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		list, err := tx.ListAddresses(ctx, account)
		if err != nil {
			return err
		}
		a, err := findEIP(list, allocID, publicIP)
		if err != nil {
			return err
		}
		if a.Associated() {
			if err := eipReleaseAssociated(ctx, tx, account, a); err != nil {
				return err
			}
			nodes = append(nodes, eipInstanceNode(ctx, tx, account, a.InstanceID))
		}
		if err := tx.DeleteAddress(ctx, account, a.AllocationID); err != nil {
			return err
		}
		return s.restorePublicIP(ctx, tx, account, a.InstanceID)
	})
	if err != nil {
		return nil, err
	}
	s.notify(nodes...)
	return &ec2api.ReleaseAddressOutput{}, nil
}

// eipReleaseAssociated allows releasing an associated address only in a default VPC.
func eipReleaseAssociated(ctx context.Context, tx *store.Tx, account string, a store.Address) error {
	inUse := apiErr("InvalidIPAddress.InUse", "Address '%s' is in use.", a.PublicIP)
	n, err := eipInterface(ctx, tx, account, a.NetworkInterfaceID)
	if err != nil {
		return inUse
	}
	vpc, err := tx.GetVPC(ctx, account, n.VPCID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !vpc.IsDefault) {
		return inUse
	}
	return err
}

// DisassociateAddress ends an association (by AssociationId, or by the
// deprecated PublicIp); an instance launched with a public IP gets a new
// one (restorePublicIP).
func (s *Service) DisassociateAddress(ctx context.Context, in *ec2api.DisassociateAddressRequest) (*ec2api.DisassociateAddressOutput, error) {
	assocID, publicIP := deref(in.AssociationId), deref(in.PublicIp)
	if assocID == "" && publicIP == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter AssociationId")
	}
	var nodes []string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		list, err := tx.ListAddresses(ctx, account)
		if err != nil {
			return err
		}
		a, err := findEIPAssociation(list, assocID, publicIP)
		if err != nil {
			return err
		}
		nodes = append(nodes, eipInstanceNode(ctx, tx, account, a.InstanceID))
		if err := tx.SetAddressAssociation(ctx, store.Address{AccountID: account, AllocationID: a.AllocationID}); err != nil {
			return err
		}
		return s.restorePublicIP(ctx, tx, account, a.InstanceID)
	})
	if err != nil {
		return nil, err
	}
	s.notify(nodes...)
	return &ec2api.DisassociateAddressOutput{}, nil
}

func findEIPAssociation(list []store.Address, assocID, publicIP string) (store.Address, error) {
	if assocID != "" {
		for _, a := range list {
			if a.Associated() && a.AssociationID == assocID {
				return a, nil
			}
		}
		return store.Address{}, errEIPAssociationNotFound(assocID)
	}
	for _, a := range list {
		if a.PublicIP == publicIP {
			if !a.Associated() {
				return store.Address{}, invalid("You must specify an association id when unmapping an address from a VPC instance")
			}
			return a, nil
		}
	}
	return store.Address{}, errEIPNotYours(publicIP)
}

// eipInstanceNode returns the node an instance of the account is placed on
// (empty when none or unknown): the node to tell about a NAT change.
func eipInstanceNode(ctx context.Context, tx *store.Tx, account, instanceID string) string {
	if instanceID == "" {
		return ""
	}
	i, err := tx.GetInstance(ctx, account, instanceID)
	if err != nil {
		return ""
	}
	return i.NodeID
}

// eipInterface finds one of the account's network interfaces.
func eipInterface(ctx context.Context, tx *store.Tx, account, id string) (store.NetworkInterface, error) {
	list, err := tx.ListNetworkInterfaces(ctx, account)
	if err != nil {
		return store.NetworkInterface{}, err
	}
	for _, n := range list {
		if n.ID == id {
			return n, nil
		}
	}
	return store.NetworkInterface{}, errEIPInterfaceNotFound(id)
}

// publicDNSName is an elastic IP's host name, shaped as EC2's public names
// (ec2-203-0-113-5.<region>.compute.amazonaws.com) under Kumo's own
// domain: ec2-203-0-113-5.<region>.compute.kumo.
func (s *Service) publicDNSName(ip string) string { return dnsname.Public(s.Cfg.Region, ip) }
