package vpcdns

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// listenUDPTCP listens on one loopback port for UDP and TCP, as a
// resolver does.
func listenUDPTCP(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	return pc, ln
}

// serve runs a Server for zone on loopback (UDP and TCP on one port) and
// returns its address.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	pc, ln := listenUDPTCP(t)
	r := s.Serve([]net.PacketConn{pc}, []net.Listener{ln})
	t.Cleanup(r.Close)
	return pc.LocalAddr().String()
}

// upstream runs a tiny resolver on loopback that answers every A question
// with 192.0.2.99 and counts the questions.
func upstream(t *testing.T, asked *atomic.Int32) string {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		asked.Add(1)
		m := new(dns.Msg)
		m.SetReply(r)
		m.RecursionAvailable = true
		if q := r.Question[0]; q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
				A: net.IPv4(192, 0, 2, 99)})
		}
		w.WriteMsg(m)
	})
	pc, ln := listenUDPTCP(t)
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		go srv.ActivateAndServe()
		t.Cleanup(func() { srv.Shutdown() })
	}
	return pc.LocalAddr().String()
}

func testZone() Config {
	return Config{Support: true, Hostnames: true, Region: "kumo-1",
		VPC: []netip.Prefix{netip.MustParsePrefix("172.31.0.0/16")},
		Names: []Name{
			{Private: netip.MustParseAddr("172.31.0.4"), Public: netip.MustParseAddr("198.51.100.2")},
			{Private: netip.MustParseAddr("172.31.0.5")},
		},
		PublicPool: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
	}
}

func ask(t *testing.T, network, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: network}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return resp
}

// answerOf is the one answer's value (A address or PTR target), "" when
// there is none.
func answerOf(t *testing.T, m *dns.Msg) string {
	t.Helper()
	if len(m.Answer) == 0 {
		return ""
	}
	switch rr := m.Answer[0].(type) {
	case *dns.A:
		return rr.A.String()
	case *dns.PTR:
		return rr.Ptr
	}
	return m.Answer[0].String()
}

func TestOwnNames(t *testing.T) {
	var asked atomic.Int32
	z := NewZone(testZone())
	addr := serve(t, &Server{Zone: func() *Zone { return z }, Upstreams: []string{upstream(t, &asked)}})
	for _, c := range []struct {
		name   string
		qtype  uint16
		rcode  int
		answer string
	}{
		{"ip-172-31-0-4.kumo-1.compute.internal", dns.TypeA, dns.RcodeSuccess, "172.31.0.4"},
		{"IP-172-31-0-5.Kumo-1.Compute.Internal", dns.TypeA, dns.RcodeSuccess, "172.31.0.5"},
		{"ip-172-31-0-5.kumo-1.compute.internal", dns.TypeAAAA, dns.RcodeSuccess, ""},
		{"ip-172-31-0-6.kumo-1.compute.internal", dns.TypeA, dns.RcodeNameError, ""}, // no such interface
		{"nothing.kumo-1.compute.internal", dns.TypeA, dns.RcodeNameError, ""},
		{"4.0.31.172.in-addr.arpa", dns.TypePTR, dns.RcodeSuccess, "ip-172-31-0-4.kumo-1.compute.internal."},
		{"9.0.31.172.in-addr.arpa", dns.TypePTR, dns.RcodeNameError, ""},
		// The VPC's own public name: its private address from inside.
		{"ec2-198-51-100-2.kumo-1.compute.kumo", dns.TypeA, dns.RcodeSuccess, "172.31.0.4"},
		// Another VPC's public address of the pool: the public address.
		{"ec2-198-51-100-7.kumo-1.compute.kumo", dns.TypeA, dns.RcodeSuccess, "198.51.100.7"},
		{"ec2-203-0-113-7.kumo-1.compute.kumo", dns.TypeA, dns.RcodeNameError, ""},
		{"2.100.51.198.in-addr.arpa", dns.TypePTR, dns.RcodeSuccess, "ec2-198-51-100-2.kumo-1.compute.kumo."},
		{"7.100.51.198.in-addr.arpa", dns.TypePTR, dns.RcodeSuccess, "ec2-198-51-100-7.kumo-1.compute.kumo."},
	} {
		for _, network := range []string{"udp", "tcp"} {
			m := ask(t, network, addr, c.name, c.qtype)
			if m.Rcode != c.rcode || answerOf(t, m) != c.answer {
				t.Errorf("%s %s %s: %s %q, want %s %q", network, c.name, dns.TypeToString[c.qtype],
					dns.RcodeToString[m.Rcode], answerOf(t, m), dns.RcodeToString[c.rcode], c.answer)
			}
		}
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the upstream was asked %d questions about Kumo's own names", n)
	}
	if m := ask(t, "udp", addr, "example.com", dns.TypeA); m.Rcode != dns.RcodeSuccess || answerOf(t, m) != "192.0.2.99" {
		t.Errorf("forwarded: %s %q", dns.RcodeToString[m.Rcode], answerOf(t, m))
	}
	if m := ask(t, "tcp", addr, "example.com", dns.TypeA); m.Rcode != dns.RcodeSuccess || answerOf(t, m) != "192.0.2.99" {
		t.Errorf("forwarded over TCP: %s %q", dns.RcodeToString[m.Rcode], answerOf(t, m))
	}
	if m := ask(t, "udp", addr, "1.0.0.10.in-addr.arpa", dns.TypePTR); m.Rcode != dns.RcodeSuccess || asked.Load() != 3 {
		t.Errorf("a reverse name outside the VPC goes upstream: %s, upstream asked %d", dns.RcodeToString[m.Rcode], asked.Load())
	}
}

func TestHostnamesOff(t *testing.T) {
	c := testZone()
	c.Hostnames = false
	z := NewZone(c)
	addr := serve(t, &Server{Zone: func() *Zone { return z }})
	if m := ask(t, "udp", addr, "ec2-198-51-100-2.kumo-1.compute.kumo", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Errorf("public name with enableDnsHostnames off: %s %q", dns.RcodeToString[m.Rcode], answerOf(t, m))
	}
	if m := ask(t, "udp", addr, "2.100.51.198.in-addr.arpa", dns.TypePTR); m.Rcode != dns.RcodeNameError {
		t.Errorf("public reverse with enableDnsHostnames off: %s %q", dns.RcodeToString[m.Rcode], answerOf(t, m))
	}
	if m := ask(t, "udp", addr, "ip-172-31-0-4.kumo-1.compute.internal", dns.TypeA); answerOf(t, m) != "172.31.0.4" {
		t.Errorf("private names stay with enableDnsHostnames off: %s %q", dns.RcodeToString[m.Rcode], answerOf(t, m))
	}
}

// Without upstreams only Kumo's names resolve; the rest is refused.
func TestNoUpstreamRefuses(t *testing.T) {
	z := NewZone(testZone())
	addr := serve(t, &Server{Zone: func() *Zone { return z }})
	if m := ask(t, "udp", addr, "deb.debian.org", dns.TypeA); m.Rcode != dns.RcodeRefused {
		t.Errorf("no upstream: %s", dns.RcodeToString[m.Rcode])
	}
}

// A dead upstream fails the question (SERVFAIL), after trying the next.
func TestUpstreamDown(t *testing.T) {
	var asked atomic.Int32
	dead, err := net.ListenPacket("udp4", "127.0.0.1:0") // never answers
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	z := NewZone(testZone())
	addr := serve(t, &Server{Zone: func() *Zone { return z }, Timeout: 200e6, Upstreams: []string{dead.LocalAddr().String()}})
	if m := ask(t, "udp", addr, "example.com", dns.TypeA); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("dead upstream: %s", dns.RcodeToString[m.Rcode])
	}
	addr = serve(t, &Server{Zone: func() *Zone { return z }, Timeout: 200e6, Upstreams: []string{dead.LocalAddr().String(), upstream(t, &asked)}})
	if m := ask(t, "udp", addr, "example.com", dns.TypeA); answerOf(t, m) != "192.0.2.99" {
		t.Errorf("second upstream: %s %q", dns.RcodeToString[m.Rcode], answerOf(t, m))
	}
}

// enableDnsSupport off (or no zone yet): nothing answers.
func TestSupportOffIsSilent(t *testing.T) {
	c := testZone()
	c.Support = false
	z := NewZone(c)
	addr := serve(t, &Server{Zone: func() *Zone { return z }})
	m := new(dns.Msg)
	m.SetQuestion("ip-172-31-0-4.kumo-1.compute.internal.", dns.TypeA)
	cl := &dns.Client{Net: "udp", Timeout: 300e6}
	if resp, _, err := cl.Exchange(m, addr); err == nil {
		t.Errorf("enableDnsSupport off answered: %v", resp)
	}
}

func TestAddress(t *testing.T) {
	if got := Address(netip.MustParsePrefix("172.31.0.0/16")); got.String() != "172.31.0.2" {
		t.Errorf("Address = %s", got)
	}
	if got := Address(netip.MustParsePrefix("10.1.0.0/16")); got.String() != "10.1.0.2" {
		t.Errorf("Address = %s", got)
	}
}

// Odd questions get an answer, never a crash or silence: several or no
// questions, another opcode, another class, raw garbage (dropped).
func TestOddQuestions(t *testing.T) {
	z := NewZone(testZone())
	addr := serve(t, &Server{Zone: func() *Zone { return z }})
	c := &dns.Client{Net: "udp"}
	exchange := func(m *dns.Msg) *dns.Msg {
		t.Helper()
		resp, _, err := c.Exchange(m, addr)
		if err != nil {
			t.Fatalf("%v: %v", m.Question, err)
		}
		return resp
	}
	two := new(dns.Msg)
	two.SetQuestion("ip-172-31-0-4.kumo-1.compute.internal.", dns.TypeA)
	two.Question = append(two.Question, two.Question[0])
	if r := exchange(two); r.Rcode != dns.RcodeFormatError {
		t.Errorf("two questions: %s", dns.RcodeToString[r.Rcode])
	}
	notify := new(dns.Msg)
	notify.SetNotify("kumo-1.compute.internal.")
	if r := exchange(notify); r.Rcode != dns.RcodeNotImplemented {
		t.Errorf("NOTIFY: %s", dns.RcodeToString[r.Rcode])
	}
	chaos := new(dns.Msg)
	chaos.SetQuestion("version.bind.", dns.TypeTXT)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	if r := exchange(chaos); r.Rcode != dns.RcodeRefused {
		t.Errorf("CHAOS: %s", dns.RcodeToString[r.Rcode])
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("\x00\x01garbage that is no DNS message"))
	conn.Close()
	if r := ask(t, "udp", addr, "ip-172-31-0-4.kumo-1.compute.internal", dns.TypeA); answerOf(t, r) != "172.31.0.4" {
		t.Errorf("after garbage: %s %q", dns.RcodeToString[r.Rcode], answerOf(t, r))
	}
}

// Every forwarded question waits for its upstream; beyond MaxInFlight the
// resolver fails the question at once rather than piling up goroutines.
func TestForwardingIsBounded(t *testing.T) {
	dead, err := net.ListenPacket("udp4", "127.0.0.1:0") // never answers
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	z := NewZone(testZone())
	s := &Server{Zone: func() *Zone { return z }, MaxInFlight: 1, Timeout: 2e9, Upstreams: []string{dead.LocalAddr().String()}}
	addr := serve(t, s)
	go (&dns.Client{Net: "udp", Timeout: 3e9}).Exchange(func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("slow.example.", dns.TypeA)
		return m
	}(), addr)
	deadline := time.Now().Add(time.Second)
	for len(s.inflight) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	if r := ask(t, "udp", addr, "other.example", dns.TypeA); r.Rcode != dns.RcodeServerFailure || time.Since(start) > time.Second {
		t.Errorf("over the bound: %s after %v, want SERVFAIL at once", dns.RcodeToString[r.Rcode], time.Since(start))
	}
}
