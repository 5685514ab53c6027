package ec2

import (
	"net/netip"
	"testing"
)

func TestParseAddressPool(t *testing.T) {
	p, err := ParseAddressPool(" 192.0.2.0/30, 198.51.100.10-198.51.100.12,203.0.113.9,,10.1.1.0/31")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != "192.0.2.1-192.0.2.2,198.51.100.10-198.51.100.12,203.0.113.9-203.0.113.9,10.1.1.0-10.1.1.1" {
		t.Fatalf("pool %s", got)
	}
	if p.Size() != 8 || p.Empty() {
		t.Fatalf("size %d", p.Size())
	}
	for ip, want := range map[string]bool{"192.0.2.0": false, "192.0.2.1": true, "192.0.2.3": false, "198.51.100.11": true,
		"198.51.100.13": false, "203.0.113.9": true, "10.1.1.1": true} {
		if got := p.Contains(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Contains(%s) = %v", ip, got)
		}
	}
	taken := map[string]bool{"192.0.2.1": true, "192.0.2.2": true, "198.51.100.10": true}
	if ip, ok := p.Free(taken); !ok || ip.String() != "198.51.100.11" {
		t.Fatalf("free %s %v", ip, ok)
	}
	for _, ip := range []string{"198.51.100.11", "198.51.100.12", "203.0.113.9", "10.1.1.0", "10.1.1.1"} {
		taken[ip] = true
	}
	if ip, ok := p.Free(taken); ok {
		t.Fatalf("full pool gave %s", ip)
	}
	if empty, err := ParseAddressPool(""); err != nil || !empty.Empty() {
		t.Fatalf("empty pool: %v %v", empty, err)
	}
	if _, ok := (AddressPool{}).Free(nil); ok {
		t.Fatal("the empty pool gave an address")
	}
	for _, bad := range []string{"192.0.2.0/33", "2001:db8::/64", "192.0.2.9-192.0.2.1", "host", "192.0.2.1-x", "::1"} {
		if _, err := ParseAddressPool(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
