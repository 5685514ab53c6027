//go:build linux

package guestnet

import (
	"net/netip"
	"testing"

	"github.com/kumo-cloud/kumo/internal/nettest"
)

// BenchmarkGuestTCP measures TCP throughput between two guests'
// namespaces: on one subnet bridge of one node, and across two nodes
// through the VXLAN overlay. Run with
//
//	go test -run '^$' -bench GuestTCP ./internal/guestnet
//
// The same through security groups: BenchmarkGuestTCPFiltered in
// internal/sgfilter.
func BenchmarkGuestTCP(b *testing.B) {
	nodes := newNodes(b, 2)
	v := vpcNet{id: overlayVPC1, vni: 401, guests: make([][]netip.Addr, 2)}
	a1 := addSubnetGuest(b, nodes[0], &v, 0, overlaySubnet1, "10.0.1.0/24", "10.0.1.10")
	a2 := addSubnetGuest(b, nodes[0], &v, 0, overlaySubnet1, "10.0.1.0/24", "10.0.1.11")
	b1 := addSubnetGuest(b, nodes[1], &v, 1, overlaySubnet1, "10.0.1.0/24", "10.0.1.20")
	ensureOverlay(b, nodes, v)
	b.Run("bridge", func(b *testing.B) { benchTCP(b, a1, a2, "10.0.1.11") })
	b.Run("vxlan", func(b *testing.B) { benchTCP(b, a1, b1, "10.0.1.20") })
}

// benchTCP sends b.N MiB from one guest to a listener in another and
// reports the rate at which the receiver got them (nettest.BenchTCP).
func benchTCP(b *testing.B, from, to guest, toIP string) {
	nettest.BenchTCP(b, from.path, to.path, netip.AddrPortFrom(netip.MustParseAddr(toIP), 0))
}

// tcpTransfer sends chunks MiB over TCP from the guest from to a listener
// on toIP in the guest to, calling started once connected, and returns
// the bytes the receiver got once the sender closed (nettest.TCPTransfer).
func tcpTransfer(from, to guest, toIP string, chunks int, started func()) (int64, error) {
	return nettest.TCPTransfer(from.path, to.path, netip.AddrPortFrom(netip.MustParseAddr(toIP), 0), chunks, started)
}
