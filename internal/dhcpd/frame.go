package dhcpd

import (
	"encoding/binary"
	"net/netip"
)

const (
	ipv4HeaderLen = 20
	udpHeaderLen  = 8
	protoUDP      = 17
)

// udpDatagram builds an IPv4 packet carrying one UDP datagram, checksums
// filled in, for a link-layer socket (the kernel adds the Ethernet header).
func udpDatagram(src, dst netip.Addr, srcPort, dstPort int, payload []byte) []byte {
	total := ipv4HeaderLen + udpHeaderLen + len(payload)
	b := make([]byte, total)
	ip := b[:ipv4HeaderLen]
	ip[0] = 0x45 // version 4, 5 words of header
	binary.BigEndian.PutUint16(ip[2:], uint16(total))
	ip[8] = 64 // TTL
	ip[9] = protoUDP
	s, d := src.As4(), dst.As4()
	copy(ip[12:16], s[:])
	copy(ip[16:20], d[:])
	binary.BigEndian.PutUint16(ip[10:], checksum(0, ip))

	udp := b[ipv4HeaderLen:]
	binary.BigEndian.PutUint16(udp[0:], uint16(srcPort))
	binary.BigEndian.PutUint16(udp[2:], uint16(dstPort))
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	copy(udp[udpHeaderLen:], payload)
	binary.BigEndian.PutUint16(udp[6:], udpChecksum(s, d, udp))
	return b
}

// udpChecksum is the UDP checksum over the IPv4 pseudo-header and udp.
func udpChecksum(src, dst [4]byte, udp []byte) uint16 {
	pseudo := make([]byte, 0, 12)
	pseudo = append(pseudo, src[:]...)
	pseudo = append(pseudo, dst[:]...)
	pseudo = append(pseudo, 0, protoUDP)
	pseudo = binary.BigEndian.AppendUint16(pseudo, uint16(len(udp)))
	c := checksum(sum(0, pseudo), udp)
	if c == 0 {
		return 0xffff // 0 would mean "no checksum"
	}
	return c
}

// checksum finishes the Internet checksum (RFC 1071) of b, starting from a
// partial sum.
func checksum(partial uint32, b []byte) uint16 {
	s := sum(partial, b)
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func sum(s uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}
