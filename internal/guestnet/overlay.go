package guestnet

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// VXLANPort is the UDP port of every node's VXLAN tunnel endpoint (IANA's).
const VXLANPort = 4789

// MaxVNI is the largest VXLAN network identifier (24 bits). VNI 0 is not
// used.
const MaxVNI = 1<<24 - 1

// Peer is another node that hosts guests of a VPC: where to send their
// traffic and which private addresses live there.
type Peer struct {
	// Underlay is the node's tunnel endpoint address, the one it passes
	// to its own EnsureOverlay.
	Underlay netip.Addr
	// Guests are the IPv4 addresses (primary and secondary private IPs)
	// of the VPC's network interfaces on that node.
	Guests []netip.Addr
}

// overlaySpec is the validated desired overlay of one VPC on one node.
type overlaySpec struct {
	vpcID string
	vni   uint32
	local netip.Addr
	mac   net.HardwareAddr // this node's tunnel endpoint in the VPC

	fdb   map[string]netip.Addr           // remote endpoint MAC → its underlay address
	neigh map[netip.Addr]net.HardwareAddr // remote guest → its node's endpoint MAC
}

// newOverlaySpec checks the arguments of EnsureOverlay and CheckOverlay.
// A peer whose underlay address is the local one is skipped, so callers
// may pass every node of the VPC.
func newOverlaySpec(vpcID string, vni uint32, underlay netip.Addr, peers []Peer) (overlaySpec, error) {
	if err := checkID("vpc", vpcID); err != nil {
		return overlaySpec{}, err
	}
	if vni == 0 || vni > MaxVNI {
		return overlaySpec{}, fmt.Errorf("vpc %s: vni %d out of range 1-%d", vpcID, vni, MaxVNI)
	}
	local := underlay.Unmap()
	if err := checkUnderlay(local); err != nil {
		return overlaySpec{}, fmt.Errorf("vpc %s: local %w", vpcID, err)
	}
	s := overlaySpec{
		vpcID: vpcID, vni: vni, local: local, mac: vtepMAC(vni, local),
		fdb: map[string]netip.Addr{}, neigh: map[netip.Addr]net.HardwareAddr{},
	}
	for _, p := range peers {
		if err := s.addPeer(p); err != nil {
			return overlaySpec{}, fmt.Errorf("vpc %s: %w", vpcID, err)
		}
	}
	return s, nil
}

func (s *overlaySpec) addPeer(p Peer) error {
	remote := p.Underlay.Unmap()
	if err := checkUnderlay(remote); err != nil {
		return fmt.Errorf("peer %w", err)
	}
	if remote.Is4() != s.local.Is4() {
		return fmt.Errorf("peer underlay %s and local %s are of different families", remote, s.local)
	}
	if remote == s.local {
		return nil
	}
	mac := vtepMAC(s.vni, remote)
	if _, dup := s.fdb[mac.String()]; dup {
		return fmt.Errorf("peer %s listed twice", remote)
	}
	s.fdb[mac.String()] = remote
	for _, g := range p.Guests {
		g = g.Unmap()
		if !g.Is4() || g.IsUnspecified() || g.IsMulticast() || g.IsLoopback() {
			return fmt.Errorf("peer %s: guest address %s is not a unicast IPv4 address", remote, g)
		}
		if _, dup := s.neigh[g]; dup {
			return fmt.Errorf("guest %s listed twice", g)
		}
		s.neigh[g] = mac
	}
	return nil
}

func checkUnderlay(a netip.Addr) error {
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() {
		return errors.New("underlay address " + a.String() + " is not a unicast address")
	}
	return nil
}

// vtepMAC is the MAC address of a node's tunnel endpoint (its vxlan
// device) in one VNI. Every node derives it from the VNI and the node's
// underlay address, so no node needs to be told another's.
func vtepMAC(vni uint32, underlay netip.Addr) net.HardwareAddr {
	h := sha256.Sum256([]byte("vtep/" + strconv.FormatUint(uint64(vni), 10) + "/" + underlay.String()))
	return net.HardwareAddr{0x06, h[0], h[1], h[2], h[3], h[4]} // locally administered, unicast
}
