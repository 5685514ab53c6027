//go:build linux

package imds

import (
	"net"
	"syscall"
)

// setHopLimit sets the unicast TTL (IPv4) or hop limit (IPv6) of c's socket.
func setHopLimit(c net.Conn, hops int) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	level, opt := syscall.IPPROTO_IP, syscall.IP_TTL
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok && a.IP.To4() == nil {
		level, opt = syscall.IPPROTO_IPV6, syscall.IPV6_UNICAST_HOPS
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), level, opt, hops)
	})
	return err == nil && serr == nil
}
