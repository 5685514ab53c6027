//go:build !linux

package dhcpd

import (
	"errors"
	"net"
)

type sockets struct{ udp *net.UDPConn }

func openSockets(iface, netnsPath string) (*sockets, error) {
	return nil, errors.ErrUnsupported
}

func (s *sockets) sendFrame(packet []byte, mac net.HardwareAddr) error {
	return errors.ErrUnsupported
}

func (s *sockets) close() error { return s.udp.Close() }
