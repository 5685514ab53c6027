package dhcpd

import (
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

func TestReplyDestination(t *testing.T) {
	yi := dhcpv4.WithYourIP(net.IPv4(10, 77, 0, 23))
	for _, tc := range []struct {
		name string
		req  []dhcpv4.Modifier
		resp []dhcpv4.Modifier
		want destKind
		ip   string
		port int
	}{
		{"no address, no flag", nil, []dhcpv4.Modifier{yi}, toHardware, "10.77.0.23", 68},
		{"broadcast flag", []dhcpv4.Modifier{dhcpv4.WithBroadcast(true)}, []dhcpv4.Modifier{yi}, toBroadcast, "invalid IP", 68},
		{"client address", []dhcpv4.Modifier{dhcpv4.WithClientIP(net.IPv4(10, 77, 0, 23)), dhcpv4.WithBroadcast(true)},
			[]dhcpv4.Modifier{yi}, toClientIP, "10.77.0.23", 68},
		{"relay", []dhcpv4.Modifier{dhcpv4.WithGatewayIP(net.IPv4(10, 1, 0, 1))}, []dhcpv4.Modifier{yi}, toRelay, "10.1.0.1", 67},
		{"nak", []dhcpv4.Modifier{dhcpv4.WithClientIP(net.IPv4(10, 77, 0, 23))},
			[]dhcpv4.Modifier{dhcpv4.WithMessageType(dhcpv4.MessageTypeNak)}, toBroadcast, "invalid IP", 68},
		{"no yiaddr", nil, nil, toBroadcast, "invalid IP", 68},
	} {
		req, err := dhcpv4.NewDiscovery(mustMAC(t, guestMAC), tc.req...)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := dhcpv4.NewReplyFromRequest(req, tc.resp...)
		if err != nil {
			t.Fatal(err)
		}
		d := replyDestination(req, resp)
		if d.kind != tc.want || d.ip.String() != tc.ip || d.port != tc.port {
			t.Errorf("%s: destination = %+v, want kind %d to %s:%d", tc.name, d, tc.want, tc.ip, tc.port)
		}
		if d.kind == toHardware && d.mac.String() != guestMAC {
			t.Errorf("%s: frame to %v", tc.name, d.mac)
		}
	}
}
