package dhcpd

import (
	"net/netip"
	"strings"
	"testing"
)

func TestNewRejectsBadArguments(t *testing.T) {
	leases := NewStaticLeases(testLease(t, guestMAC))
	v4 := netip.MustParseAddr("10.77.0.1")
	for name, tc := range map[string]struct {
		iface    string
		serverIP netip.Addr
		leases   Leases
		want     string
	}{
		"IPv6 server":   {"lo", netip.MustParseAddr("fd00::1"), leases, "not IPv4"},
		"no leases":     {"lo", v4, nil, "no leases"},
		"no interface":  {"kumo-nosuch0", v4, leases, ""},
		"bad namespace": {"lo", v4, leases, ""},
	} {
		var opts []Option
		if name == "bad namespace" {
			opts = append(opts, InNetns("/nonexistent/netns"))
		}
		srv, err := New(tc.iface, tc.serverIP, tc.leases, nil, opts...)
		if err == nil {
			srv.Close()
			t.Errorf("%s: New succeeded", name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q lacks %q", name, err, tc.want)
		}
	}
}
