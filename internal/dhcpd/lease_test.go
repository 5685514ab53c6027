package dhcpd

import (
	"net/netip"
	"testing"
)

func TestRoutesAddMetadataAndDefault(t *testing.T) {
	l := testLease(t, guestMAC)
	l.ClasslessRoutes = []Route{{
		Dest:    netip.MustParsePrefix("10.80.0.0/16"),
		Gateway: netip.MustParseAddr("10.77.0.3"),
	}}
	got := l.routes()
	want := []string{"10.80.0.0/16 10.77.0.3", "169.254.169.254/32 10.77.0.1", "0.0.0.0/0 10.77.0.1"}
	if len(got) != len(want) {
		t.Fatalf("routes = %v", got)
	}
	for i, r := range got {
		if s := r.Dest.String() + " " + r.Gateway.String(); s != want[i] {
			t.Errorf("route %d = %s, want %s", i, s, want[i])
		}
	}
}

func TestRoutesKeepExplicitDefault(t *testing.T) {
	l := testLease(t, guestMAC)
	l.ClasslessRoutes = []Route{{
		Dest:    netip.MustParsePrefix("0.0.0.0/0"),
		Gateway: netip.MustParseAddr("10.77.0.4"),
	}}
	got := l.routes()
	if len(got) != 2 || got[0].Gateway != netip.MustParseAddr("10.77.0.4") {
		t.Errorf("routes = %v, want the explicit default and the metadata route", got)
	}
}

func TestRoutesWithoutRouter(t *testing.T) {
	l := testLease(t, guestMAC)
	l.Router = netip.Addr{}
	if got := l.routes(); len(got) != 0 {
		t.Errorf("routes without a router = %v", got)
	}
}

func TestValidate(t *testing.T) {
	for name, change := range map[string]func(*Lease){
		"ipv6 address": func(l *Lease) { l.IP = netip.MustParseAddr("fd00::5") },
		"no subnet":    func(l *Lease) { l.Prefix = netip.Prefix{} },
		"outside":      func(l *Lease) { l.IP = netip.MustParseAddr("10.78.0.5") },
		"ipv6 router":  func(l *Lease) { l.Router = netip.MustParseAddr("fd00::1") },
		"ipv6 route": func(l *Lease) {
			l.ClasslessRoutes = []Route{{Dest: netip.MustParsePrefix("fd00::/8"), Gateway: l.Router}}
		},
	} {
		l := testLease(t, guestMAC)
		change(&l)
		if l.validate() == nil {
			t.Errorf("%s: lease accepted", name)
		}
	}
	if err := testLease(t, guestMAC).validate(); err != nil {
		t.Errorf("good lease rejected: %v", err)
	}
}

func TestBroadcastOf(t *testing.T) {
	for in, want := range map[string]string{
		"10.77.0.0/24":  "10.77.0.255",
		"10.77.0.17/28": "10.77.0.31",
		"10.0.0.0/8":    "10.255.255.255",
		"10.1.2.3/32":   "10.1.2.3",
	} {
		if got := broadcastOf(netip.MustParsePrefix(in)).String(); got != want {
			t.Errorf("broadcastOf(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestLeaseTimeDefault(t *testing.T) {
	if got := (Lease{}).leaseTime(); got != DefaultLeaseTime {
		t.Errorf("default lease time = %v", got)
	}
}
