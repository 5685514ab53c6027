package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/kumo-cloud/kumo/internal/dhcpd"
	"github.com/kumo-cloud/kumo/internal/dnsname"
	"github.com/kumo-cloud/kumo/internal/imds"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/vpcdns"
)

// netServices runs one DHCP server per subnet bridge and one metadata
// service per VPC that has instances on this node.
type netServices struct {
	a    *agent
	ctx  context.Context // the agent's: the services live as long as it
	mu   sync.Mutex
	dhcp map[string]*dhcpd.Server // by VPC, netns and bridge
	imds map[string]*http.Server  // by VPC id
	dns  map[string]*vpcdns.Running
	// zones are the resolver's names of each VPC, from the last Desired,
	// under their own lock: a question being answered must never wait
	// for mu, which stopVPC holds while the resolver shuts down.
	zonesMu sync.RWMutex
	zones   map[string]*vpcdns.Zone
}

// ensureNetwork makes the instance's subnet and serves DHCP and metadata
// on it. Without a Network there is nothing to do.
func (a *agent) ensureNetwork(ctx context.Context, spec *nodeapi.InstanceSpec) (Subnet, error) {
	return a.ensureSubnet(ctx, spec.Network)
}

// ensureSubnet makes an interface's subnet and serves DHCP and metadata
// on it.
func (a *agent) ensureSubnet(ctx context.Context, n nodeapi.NetworkInterface) (Subnet, error) {
	if a.cfg.Network == nil || n.VPCID == "" {
		return Subnet{}, nil
	}
	sub, err := a.cfg.Network.EnsureSubnet(ctx, n.VPCID, n.VPCCIDR, n.SubnetID, n.SubnetCIDR, n.Gateway)
	if err != nil {
		return sub, fmt.Errorf("subnet %s: %w", n.SubnetID, err)
	}
	a.vnet.madeSubnet(n.SubnetID, sub)
	if err := a.net.ensureDHCP(sub); err != nil {
		return sub, err
	}
	if err := a.net.ensureDNS(ctx, n.VPCID, n.VPCCIDR); err != nil {
		// The guest runs without names rather than not at all.
		a.log.Error("vpc resolver", "vpc", n.VPCID, "err", err)
	}
	return sub, a.net.ensureIMDS(ctx, n.VPCID)
}

func (ns *netServices) ensureDHCP(sub Subnet) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	key := sub.VPCID + "|" + sub.Netns + "|" + sub.Bridge
	if sub.Bridge == "" || ns.dhcp[key] != nil { // no bridge: a test network without DHCP
		return nil
	}
	var opts []dhcpd.Option
	if sub.Netns != "" {
		opts = append(opts, dhcpd.InNetns(sub.Netns))
	}
	srv, err := dhcpd.New(sub.Bridge, sub.Gateway.Addr(), leases{ns.a}, ns.a.log.With("dhcp", sub.Bridge), opts...)
	if err != nil {
		return fmt.Errorf("dhcp on %s: %w", sub.Bridge, err)
	}
	ns.dhcp[key] = srv
	go func() {
		if err := srv.Serve(ns.ctx); err != nil {
			ns.a.log.Error("dhcp server", "bridge", sub.Bridge, "err", err)
		}
		ns.mu.Lock()
		if ns.dhcp[key] == srv {
			delete(ns.dhcp, key)
		}
		ns.mu.Unlock()
	}()
	return nil
}

// ensureIMDS serves the metadata service on the VPC's 169.254.169.254.
// The listener is per VPC namespace, which keeps VPCs apart; within a VPC
// the instance is found by its source address among the desired specs.
// Anti-spoofing rules that bind each tap to its address arrive with the
// security-group work; until then a guest could claim a neighbour's address.
func (ns *netServices) ensureIMDS(ctx context.Context, vpcID string) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.imds[vpcID] != nil {
		return nil
	}
	ln, err := ns.a.cfg.Network.ListenIMDS(ctx, vpcID)
	if err != nil {
		return fmt.Errorf("metadata service of %s: %w", vpcID, err)
	}
	srv := &http.Server{
		Handler:     &imds.Server{Lookup: ns.a.lookupIMDS, TokenKey: ns.a.imdsKey, Now: ns.a.now},
		ConnContext: imds.ConnContext(vpcID),
	}
	ns.imds[vpcID] = srv
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			ns.a.log.Error("metadata service", "vpc", vpcID, "err", err)
		}
	}()
	return nil
}

// dropVPC stops the services of a VPC and deletes its namespace once the
// node hosts none of its instances. Instances the server has not named
// yet (reattached after a restart) may be in any VPC: nothing is deleted
// while there are some.
func (a *agent) dropVPC(ctx context.Context, vpcID string) {
	if a.cfg.Network == nil || vpcID == "" {
		return
	}
	a.vpcMu.Lock()
	defer a.vpcMu.Unlock()
	for _, w := range a.workerList() {
		s := w.desired()
		if s == nil || (s.Network.VPCID == vpcID && w.status().State != nodeapi.ObservedDeleted) {
			return
		}
	}
	a.net.stopVPC(vpcID)
	a.vnet.dropped(vpcID)
	if err := a.cfg.Network.DeleteVPC(ctx, vpcID); err != nil {
		a.log.Warn("delete VPC namespace", "vpc", vpcID, "err", err)
		return
	}
	a.log.Info("deleted VPC namespace: no instance of it left here", "vpc", vpcID)
}

func (ns *netServices) stopVPC(vpcID string) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if s := ns.imds[vpcID]; s != nil {
		s.Close()
		delete(ns.imds, vpcID)
	}
	if s := ns.dns[vpcID]; s != nil {
		s.Close()
		delete(ns.dns, vpcID)
	}
	for key, s := range ns.dhcp {
		if strings.HasPrefix(key, vpcID+"|") {
			s.Close()
			delete(ns.dhcp, key)
		}
	}
}

func (ns *netServices) close() {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, s := range ns.imds {
		s.Close()
	}
	for _, s := range ns.dns {
		s.Close()
	}
	for _, s := range ns.dhcp {
		s.Close()
	}
}

// specs returns the desired specs of the instances the node knows.
func (a *agent) specs() []nodeapi.InstanceSpec {
	var out []nodeapi.InstanceSpec
	for _, w := range a.workerList() {
		if s := w.desired(); s != nil && s.Power != nodeapi.PowerTerminated {
			out = append(out, *s)
		}
	}
	return out
}

// leases answers DHCP from the desired specs.
type leases struct{ a *agent }

// Every interface of an instance (the primary and the further ones) is
// answered by its MAC with its primary private address.
func (l leases) Lookup(mac net.HardwareAddr) (dhcpd.Lease, bool) {
	for _, s := range l.a.specs() {
		for _, n := range interfaces(s) {
			if strings.EqualFold(n.MAC, mac.String()) {
				return lease(n, mac)
			}
		}
	}
	return dhcpd.Lease{}, false
}

func lease(n nodeapi.NetworkInterface, mac net.HardwareAddr) (dhcpd.Lease, bool) {
	ip, err := netip.ParseAddr(n.PrivateIP)
	if err != nil {
		return dhcpd.Lease{}, false
	}
	prefix, err := netip.ParsePrefix(n.SubnetCIDR)
	if err != nil {
		return dhcpd.Lease{}, false
	}
	l := dhcpd.Lease{MAC: mac, IP: ip, Prefix: prefix.Masked(), Hostname: hostname(ip), DomainName: n.DomainName}
	if gw, err := netip.ParseAddr(n.Gateway); err == nil {
		l.Router = gw // option 121 then carries 169.254.169.254/32 and the default route via it
	}
	for _, d := range n.DNS {
		if a, err := netip.ParseAddr(d); err == nil {
			l.DNS = append(l.DNS, a)
		}
	}
	return l, true
}

// hostname is EC2's private host name of an address: ip-10-0-1-5.
func hostname(ip netip.Addr) string { return dnsname.PrivateHost(ip.String()) }

// lookupIMDS finds the instance behind a metadata request: the listener's
// VPC and the request's source address, any private address of any of the
// instance's interfaces. The answer is about the primary interface.
func (a *agent) lookupIMDS(r *http.Request) (*imds.Instance, error) {
	vpc, _ := imds.TapFrom(r.Context())
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return nil, imds.ErrUnknownInstance
	}
	src, err := netip.ParseAddr(host)
	if err != nil {
		return nil, imds.ErrUnknownInstance
	}
	for _, s := range a.specs() {
		if s.Network.VPCID == vpc && slices.Contains(privateIPs(s), src.Unmap()) {
			in := imdsInstance(s)
			in.IAM = a.creds.iam(r.Context(), s.ID, s.IAMInstanceProfileARN)
			// No public names while enableDnsHostnames is off (known
			// from the VPC's resolver; unknown yet: names, as before).
			in.NoPublicHostname = a.net.zone(vpc) != nil && !a.net.zone(vpc).Hostnames()
			return in, nil
		}
	}
	return nil, imds.ErrUnknownInstance
}

// privateIPs are the valid private addresses of all an instance's
// interfaces: each one's primary and secondary addresses.
func privateIPs(s nodeapi.InstanceSpec) []netip.Addr {
	var out []netip.Addr
	for _, n := range interfaces(s) {
		out = append(out, ifaceIPs(n)...)
	}
	return out
}

// ifaceIPs are an interface's valid IPv4 addresses, primary first.
func ifaceIPs(n nodeapi.NetworkInterface) []netip.Addr {
	var out []netip.Addr
	for _, a := range append([]string{n.PrivateIP}, n.SecondaryIPs...) {
		if ip, err := netip.ParseAddr(a); err == nil && ip.Unmap().Is4() && !slices.Contains(out, ip.Unmap()) {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

func imdsInstance(s nodeapi.InstanceSpec) *imds.Instance {
	n := s.Network
	return &imds.Instance{
		ID: s.ID, AccountID: s.AccountID, ImageID: s.ImageID, InstanceType: s.InstanceType,
		Region: s.Region, AvailabilityZone: s.AvailabilityZone,
		PrivateIP: n.PrivateIP, PublicIP: n.PublicIP, MAC: strings.ToLower(n.MAC),
		SubnetID: n.SubnetID, SubnetCIDR: n.SubnetCIDR, VPCID: n.VPCID, VPCCIDR: n.VPCCIDR,
		InterfaceID: n.InterfaceID, ReservationID: s.ReservationID,
		RootDeviceName: s.RootDeviceName, SecurityGroups: s.SecurityGroups, SecurityGroupIDs: s.SecurityGroupIDs,
		KeyName: s.KeyName, PublicKey: s.PublicKey, UserData: s.UserData,
		KernelID: s.KernelID, RamdiskID: s.RamdiskID,
		PendingTime: s.LaunchTime, LaunchIndex: s.LaunchIndex,
		SecondaryIPs: n.SecondaryIPs, Interfaces: imdsInterfaces(s),
	}
}

// imdsInterfaces are an instance's further interfaces as the metadata
// service lists them.
func imdsInterfaces(s nodeapi.InstanceSpec) []imds.Interface {
	var out []imds.Interface
	for _, n := range extraNICs(s) {
		out = append(out, imds.Interface{DeviceNumber: n.DeviceIndex, InterfaceID: n.InterfaceID, MAC: strings.ToLower(n.MAC),
			PrivateIPs: append([]string{n.PrivateIP}, n.SecondaryIPs...), PublicIP: n.PublicIP,
			SubnetID: n.SubnetID, SubnetCIDR: n.SubnetCIDR, VPCID: n.VPCID, VPCCIDR: n.VPCCIDR,
			SecurityGroups: n.SecurityGroupNames, SecurityGroupIDs: n.SecurityGroupIDs})
	}
	return out
}

// loadIMDSKey reads the metadata token key, making it on first use, so
// that guests' IMDSv2 tokens survive an agent restart.
func loadIMDSKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 16 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("metadata key: %w", err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, key, 0o600); err != nil {
		return nil, fmt.Errorf("metadata key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("metadata key: %w", err)
	}
	return key, nil
}
