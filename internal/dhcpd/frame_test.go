package dhcpd

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

func TestUDPDatagram(t *testing.T) {
	src, dst := netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("10.77.0.23")
	payload := []byte("hello, guest") // even length
	for _, p := range [][]byte{payload, append(payload, '!')} {
		b := udpDatagram(src, dst, 67, 68, p)
		if len(b) != 28+len(p) || b[0] != 0x45 || b[9] != 17 {
			t.Fatalf("header = % x", b[:28])
		}
		if got := int(binary.BigEndian.Uint16(b[2:])); got != len(b) {
			t.Errorf("total length = %d, want %d", got, len(b))
		}
		if checksum(0, b[:20]) != 0 {
			t.Errorf("IP header checksum does not verify")
		}
		udp := b[20:]
		if binary.BigEndian.Uint16(udp[0:]) != 67 || binary.BigEndian.Uint16(udp[2:]) != 68 {
			t.Errorf("ports = % x", udp[:4])
		}
		s, d := src.As4(), dst.As4()
		pseudo := append(append(append(s[:], d[:]...), 0, 17), udp[4:6]...)
		if checksum(sum(0, pseudo), udp) != 0 {
			t.Errorf("UDP checksum does not verify")
		}
		if string(udp[8:]) != string(p) {
			t.Errorf("payload = %q", udp[8:])
		}
	}
}

// TestChecksumKnownValue checks the example header from RFC 1071's usual
// illustration (a real IPv4 header whose checksum is b861).
func TestChecksumKnownValue(t *testing.T) {
	h := []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}
	if got := checksum(0, h); got != 0xb861 {
		t.Errorf("checksum = %#x, want 0xb861", got)
	}
}
