package dhcpd

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

const guestMAC = "52:54:00:12:34:56"

func discover(t *testing.T, mac string, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	d, err := dhcpv4.NewDiscovery(mustMAC(t, mac), mods...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// roundTrip serialises and parses p, as the wire would.
func roundTrip(t *testing.T, p *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	t.Helper()
	q, err := dhcpv4.FromBytes(p.ToBytes())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestDiscoverGetsOfferOfFixedLease(t *testing.T) {
	r, _, _ := testResponder(testLease(t, guestMAC))
	req := discover(t, guestMAC)
	offer := r.respond(roundTrip(t, req))
	if offer == nil {
		t.Fatal("no OFFER")
	}
	offer = roundTrip(t, offer)
	checkConfig(t, offer, dhcpv4.MessageTypeOffer)
	if offer.TransactionID != req.TransactionID || offer.OpCode != dhcpv4.OpcodeBootReply {
		t.Errorf("reply xid/op = %v/%v", offer.TransactionID, offer.OpCode)
	}
	if got := offer.IPAddressLeaseTime(0); got != 2*time.Hour {
		t.Errorf("lease time = %v", got)
	}
	if t1, t2 := offer.IPAddressRenewalTime(0), offer.IPAddressRebindingTime(0); t1 != time.Hour || t2 != 105*time.Minute {
		t.Errorf("T1, T2 = %v, %v", t1, t2)
	}
}

// checkConfig checks the configuration options of testLease in a reply.
func checkConfig(t *testing.T, p *dhcpv4.DHCPv4, want dhcpv4.MessageType) {
	t.Helper()
	if p.MessageType() != want {
		t.Fatalf("type = %v, want %v", p.MessageType(), want)
	}
	if ones, _ := p.SubnetMask().Size(); ones != 24 {
		t.Errorf("mask = /%d", ones)
	}
	if got := p.ServerIdentifier(); !got.Equal(net.IPv4(10, 77, 0, 1)) {
		t.Errorf("server id = %v", got)
	}
	if got := p.Router(); len(got) != 1 || !got[0].Equal(net.IPv4(10, 77, 0, 1)) {
		t.Errorf("routers = %v", got)
	}
	if got := p.DNS(); len(got) != 1 || !got[0].Equal(net.IPv4(10, 77, 0, 2)) {
		t.Errorf("DNS = %v", got)
	}
	if p.DomainName() != "ec2.internal" || p.HostName() != "ip-10-77-0-23" {
		t.Errorf("domain, host = %q, %q", p.DomainName(), p.HostName())
	}
	if got := p.GetOneOption(dhcpv4.OptionInterfaceMTU); len(got) != 2 || int(got[0])<<8|int(got[1]) != 1450 {
		t.Errorf("MTU option = %v", got)
	}
	if got := p.BroadcastAddress(); !got.Equal(net.IPv4(10, 77, 0, 255)) {
		t.Errorf("broadcast = %v", got)
	}
	routes := dhcpv4.Routes(p.ClasslessStaticRoute()).String()
	for _, want := range []string{"169.254.169.254/32 via 10.77.0.1", "0.0.0.0/0 via 10.77.0.1"} {
		if !strings.Contains(routes, want) {
			t.Errorf("classless routes %s lack %s", routes, want)
		}
	}
}

func TestRequestSelectingGetsAck(t *testing.T) {
	r, _, _ := testResponder(testLease(t, guestMAC))
	offer := r.respond(discover(t, guestMAC))
	req, err := dhcpv4.NewRequestFromOffer(roundTrip(t, offer))
	if err != nil {
		t.Fatal(err)
	}
	ack := r.respond(roundTrip(t, req))
	if ack == nil {
		t.Fatal("no ACK")
	}
	ack = roundTrip(t, ack)
	checkConfig(t, ack, dhcpv4.MessageTypeAck)
	if !ack.YourIPAddr.Equal(net.IPv4(10, 77, 0, 23)) {
		t.Errorf("yiaddr = %v", ack.YourIPAddr)
	}
	if d := replyDestination(req, ack); d.kind != toHardware || d.ip != netip.MustParseAddr("10.77.0.23") {
		t.Errorf("destination = %+v, want a frame to the client", d)
	}
}

func TestRequestForWrongAddressGetsNak(t *testing.T) {
	r, logs, _ := testResponder(testLease(t, guestMAC))
	req := discover(t, guestMAC,
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 77, 0, 99))))
	nak := r.respond(roundTrip(t, req))
	if nak == nil || nak.MessageType() != dhcpv4.MessageTypeNak {
		t.Fatalf("reply = %v, want NAK", nak)
	}
	if !nak.YourIPAddr.IsUnspecified() || nak.Options.Has(dhcpv4.OptionIPAddressLeaseTime) {
		t.Errorf("NAK carries an address or lease: %v", nak.Summary())
	}
	if d := replyDestination(req, nak); d.kind != toBroadcast {
		t.Errorf("NAK destination = %+v, want broadcast", d)
	}
	if !strings.Contains(logs.String(), "NAK") {
		t.Errorf("NAK not logged: %s", logs)
	}
}

func TestRequestToAnotherServerIsIgnored(t *testing.T) {
	r, _, _ := testResponder(testLease(t, guestMAC))
	req := discover(t, guestMAC,
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 77, 0, 23))),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 77, 0, 9))))
	if got := r.respond(req); got != nil {
		t.Errorf("reply to a request for another server: %v", got.Summary())
	}
}

func TestRenewingRequestGetsUnicastAck(t *testing.T) {
	r, _, _ := testResponder(testLease(t, guestMAC))
	req := discover(t, guestMAC,
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithClientIP(net.IPv4(10, 77, 0, 23)))
	ack := r.respond(roundTrip(t, req))
	if ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck {
		t.Fatalf("reply = %v, want ACK", ack)
	}
	if !ack.ClientIPAddr.Equal(net.IPv4(10, 77, 0, 23)) {
		t.Errorf("ciaddr = %v", ack.ClientIPAddr)
	}
	d := replyDestination(req, ack)
	if d.kind != toClientIP || d.ip != netip.MustParseAddr("10.77.0.23") || d.port != 68 {
		t.Errorf("destination = %+v, want unicast to 10.77.0.23:68", d)
	}
}

func TestRenewingWrongAddressGetsNak(t *testing.T) {
	r, _, _ := testResponder(testLease(t, guestMAC))
	req := discover(t, guestMAC,
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithClientIP(net.IPv4(10, 77, 0, 50)))
	if got := r.respond(req); got == nil || got.MessageType() != dhcpv4.MessageTypeNak {
		t.Errorf("reply = %v, want NAK", got)
	}
}

func TestInformGetsConfigWithoutLease(t *testing.T) {
	r, _, _ := testResponder(testLease(t, guestMAC))
	req, err := dhcpv4.NewInform(mustMAC(t, guestMAC), net.IPv4(10, 77, 0, 23))
	if err != nil {
		t.Fatal(err)
	}
	ack := r.respond(roundTrip(t, req))
	if ack == nil {
		t.Fatal("no ACK to INFORM")
	}
	ack = roundTrip(t, ack)
	checkConfig(t, ack, dhcpv4.MessageTypeAck)
	if !ack.YourIPAddr.IsUnspecified() || ack.Options.Has(dhcpv4.OptionIPAddressLeaseTime) {
		t.Errorf("ACK to INFORM carries an address or lease time: %v", ack.Summary())
	}
	if d := replyDestination(req, ack); d.kind != toClientIP {
		t.Errorf("destination = %+v, want the client's address", d)
	}
}

func TestUnknownClientGetsNothingAndIsLoggedRateLimited(t *testing.T) {
	r, logs, clock := testResponder(testLease(t, guestMAC))
	const stranger = "52:54:00:aa:bb:cc"
	for range 3 {
		if got := r.respond(discover(t, stranger)); got != nil {
			t.Fatalf("unknown client got %v", got.Summary())
		}
	}
	if n := strings.Count(logs.String(), stranger); n != 1 {
		t.Errorf("unknown client logged %d times, want 1:\n%s", n, logs)
	}
	clock.advance(time.Minute)
	r.respond(discover(t, stranger))
	if n := strings.Count(logs.String(), stranger); n != 2 {
		t.Errorf("unknown client logged %d times after a minute, want 2", n)
	}
}

func TestReleaseAndDeclineAreLogged(t *testing.T) {
	r, logs, _ := testResponder(testLease(t, guestMAC))
	for _, mt := range []dhcpv4.MessageType{dhcpv4.MessageTypeRelease, dhcpv4.MessageTypeDecline} {
		req := discover(t, guestMAC, dhcpv4.WithMessageType(mt),
			dhcpv4.WithClientIP(net.IPv4(10, 77, 0, 23)))
		if got := r.respond(req); got != nil {
			t.Errorf("reply to %v: %v", mt, got.Summary())
		}
	}
	for _, want := range []string{"released", "level=WARN msg=\"dhcp: client declined"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestInvalidLeaseIsNotServed(t *testing.T) {
	l := testLease(t, guestMAC)
	l.IP = netip.MustParseAddr("10.99.0.5") // outside the subnet
	r, logs, _ := testResponder(l)
	if got := r.respond(discover(t, guestMAC)); got != nil {
		t.Errorf("served an invalid lease: %v", got.Summary())
	}
	if !strings.Contains(logs.String(), "outside subnet") {
		t.Errorf("invalid lease not logged: %s", logs)
	}
}

func TestBootReplyIsIgnored(t *testing.T) {
	r, _, _ := testResponder(testLease(t, guestMAC))
	p := discover(t, guestMAC)
	p.OpCode = dhcpv4.OpcodeBootReply
	if got := r.respond(p); got != nil {
		t.Errorf("answered a BOOTREPLY: %v", got.Summary())
	}
}
