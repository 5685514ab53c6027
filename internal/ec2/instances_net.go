package ec2

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// allocateInterface makes an instance's primary interface on a subnet: the
// requested address (checked) or the lowest free one, and a fresh MAC;
// attached at device 0 and deleted when the instance terminates.
func allocateInterface(ctx context.Context, tx *store.Tx, inst store.Instance, sn store.Subnet, want string) (store.NetworkInterface, error) {
	if err := tx.ReleaseTerminatedInterfaces(ctx, sn.ID); err != nil {
		return store.NetworkInterface{}, err
	}
	used, err := tx.SubnetPrivateIPs(ctx, sn.ID)
	if err != nil {
		return store.NetworkInterface{}, err
	}
	prefix, err := netip.ParsePrefix(sn.CIDRBlock)
	if err != nil {
		return store.NetworkInterface{}, fmt.Errorf("subnet %s cidr %q: %w", sn.ID, sn.CIDRBlock, err)
	}
	var ip netip.Addr
	if want != "" {
		ip, err = checkRequestedIP(prefix, want, used)
	} else {
		ip, err = nextFreeIP(prefix, used)
	}
	if err != nil {
		return store.NetworkInterface{}, err
	}
	mac, err := freeMAC(ctx, tx)
	if err != nil {
		return store.NetworkInterface{}, err
	}
	n := store.NetworkInterface{ID: ids.Resource("eni"), AccountID: inst.AccountID, SubnetID: sn.ID, VPCID: sn.VPCID,
		PrivateIP: ip.String(), MAC: mac, InstanceID: inst.ID, DeviceIndex: 0, CreatedAt: inst.CreatedAt,
		AttachmentID: ids.Resource("eni-attach"), DeleteOnTermination: true, AttachTime: inst.CreatedAt}
	return n, tx.InsertNetworkInterface(ctx, n)
}

// reservedIP reports the addresses AWS keeps in every subnet: the network
// address, the next three (router, DNS, future use) and the broadcast.
func reservedIP(p netip.Prefix, ip netip.Addr) bool {
	first := p.Masked().Addr()
	for range 4 {
		if ip == first {
			return true
		}
		first = first.Next()
	}
	return ip == lastAddr(p)
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// nextFreeIP returns the lowest address of p that is neither reserved nor used.
func nextFreeIP(p netip.Prefix, used []string) (netip.Addr, error) {
	taken := make(map[string]bool, len(used))
	for _, u := range used {
		taken[u] = true
	}
	last := lastAddr(p)
	for ip := p.Masked().Addr(); ip.IsValid() && ip.Less(last); ip = ip.Next() {
		if !reservedIP(p, ip) && !taken[ip.String()] {
			return ip, nil
		}
	}
	return netip.Addr{}, apiErr("InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet to satisfy the requested number of instances.")
}

// checkRequestedIP validates a PrivateIpAddress for the subnet.
func checkRequestedIP(p netip.Prefix, want string, used []string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(want)
	if err != nil || !ip.Is4() {
		return ip, invalid("Invalid value '%s' for PrivateIpAddress.", want)
	}
	if !p.Contains(ip) {
		return ip, invalid("Address %s does not fall within the subnet's address range", want)
	}
	if reservedIP(p, ip) {
		return ip, invalid("Address %s is reserved by AWS for the subnet's network, router, DNS or broadcast.", want)
	}
	for _, u := range used {
		if u == ip.String() {
			return ip, awsapi.NewError("InvalidIPAddress.InUse", http.StatusBadRequest, "Address %s is in use.", want)
		}
	}
	return ip, nil
}

// newMAC returns a locally administered unicast MAC, 02:xx:xx:xx:xx:xx.
func newMAC() (string, error) {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("mac: %w", err)
	}
	return fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4]), nil
}

// freeMAC draws MACs until one is unused (40 random bits: a second draw is
// already rare).
func freeMAC(ctx context.Context, tx *store.Tx) (string, error) {
	for range 8 {
		mac, err := newMAC()
		if err != nil {
			return "", err
		}
		inUse, err := tx.MACInUse(ctx, mac)
		if err != nil {
			return "", err
		}
		if !inUse {
			return mac, nil
		}
	}
	return "", fmt.Errorf("no free MAC address after 8 draws")
}
