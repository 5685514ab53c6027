package dhcpd

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/kumo-cloud/kumo/internal/netnsrun"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"golang.org/x/sys/unix"
)

// sockets are the server's two sockets on its interface: a UDP socket on port
// 67 that receives requests and sends broadcasts and IP unicasts, and a
// link-layer socket that sends unicast frames to clients without an address
// (their address cannot be resolved with ARP yet).
type sockets struct {
	udp     *net.UDPConn
	ifindex int

	mu   sync.Mutex // guards link against a close during a send
	link int        // AF_PACKET, SOCK_DGRAM: the kernel adds the Ethernet header; -1 once closed
}

// openSockets opens the sockets on iface, inside the network namespace at
// netnsPath when it is not empty. Sockets keep the namespace they were
// opened in, so only opening needs to happen there.
func openSockets(iface, netnsPath string) (*sockets, error) {
	var socks *sockets
	err := inNetns(netnsPath, func() error {
		var err error
		socks, err = openSocketsHere(iface)
		return err
	})
	return socks, err
}

func openSocketsHere(iface string) (*sockets, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("dhcp: interface %s: %w", iface, err)
	}
	udp, err := server4.NewIPv4UDPConn(iface, &net.UDPAddr{Port: dhcpv4.ServerPort})
	if err != nil {
		return nil, fmt.Errorf("dhcp: listen on %s: %w", iface, err)
	}
	link, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		udp.Close()
		return nil, fmt.Errorf("dhcp: link-layer socket on %s: %w", iface, err)
	}
	return &sockets{udp: udp, link: link, ifindex: ifi.Index}, nil
}

// sendFrame sends an IPv4 packet to mac on the interface.
func (s *sockets) sendFrame(packet []byte, mac net.HardwareAddr) error {
	to := &unix.SockaddrLinklayer{
		Protocol: htons(unix.ETH_P_IP),
		Ifindex:  s.ifindex,
		Halen:    uint8(len(mac)),
	}
	copy(to.Addr[:], mac)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.link < 0 {
		return net.ErrClosed
	}
	return unix.Sendto(s.link, packet, 0, to)
}

func (s *sockets) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := unix.Close(s.link)
	s.link = -1
	return errors.Join(s.udp.Close(), err)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// inNetns runs fn inside the namespace at path, or the caller's when path
// is empty (netnsrun.Do).
func inNetns(path string, fn func() error) error { return netnsrun.Do(path, fn) }
