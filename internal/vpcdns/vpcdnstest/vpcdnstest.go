// Package vpcdnstest holds an operator's upstream resolver for tests of
// the VPC resolver. It is imported only by _test.go files.
package vpcdnstest

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// UpstreamName is the one name Upstream knows; it answers 192.0.2.99.
const UpstreamName = "upstream.example."

// Upstream starts, on this host's loopback, a resolver that knows one
// name, upstream.example (A 192.0.2.99; no data for other types), and
// answers NXDOMAIN for the rest. It returns its address and the count of
// questions it was asked, and stops when the test ends.
func Upstream(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	asked := new(atomic.Int32)
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		asked.Add(1)
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		switch {
		case strings.EqualFold(q.Name, UpstreamName) && q.Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30},
				A: net.IPv4(192, 0, 2, 99)})
		case !strings.EqualFold(q.Name, UpstreamName):
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String(), asked
}
