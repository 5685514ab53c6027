package vpcdns

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// TTL of the resolver's own answers, in seconds (AWS's private names: 60).
const TTL = 60

// Defaults of Server.
const (
	DefaultTimeout     = 2 * time.Second // per upstream try
	DefaultMaxInFlight = 256             // forwarded questions at once, per Server
)

// Server answers one VPC's questions. Zone is called for every question
// (nil: the VPC is not known yet, nothing answers).
type Server struct {
	Zone      func() *Zone
	Upstreams []string // host:port, tried in order
	Timeout   time.Duration
	Log       *slog.Logger
	// MaxInFlight bounds the questions being forwarded at once; more
	// are answered SERVFAIL.
	MaxInFlight int

	inflight chan struct{}
}

// Running is a Server serving on some sockets.
type Running struct{ servers []*dns.Server }

// Serve answers on every socket until Close. The sockets are the caller's
// and Close closes them.
func (s *Server) Serve(udp []net.PacketConn, tcp []net.Listener) *Running {
	if s.inflight == nil {
		n := s.MaxInFlight
		if n <= 0 {
			n = DefaultMaxInFlight
		}
		s.inflight = make(chan struct{}, n)
	}
	r := &Running{}
	for _, pc := range udp {
		r.servers = append(r.servers, &dns.Server{PacketConn: pc, Handler: s, UDPSize: dns.DefaultMsgSize})
	}
	for _, ln := range tcp {
		r.servers = append(r.servers, &dns.Server{Listener: ln, Handler: s, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	}
	for _, srv := range r.servers {
		started, exited := make(chan struct{}), make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() {
			defer close(exited)
			if err := srv.ActivateAndServe(); err != nil && !errors.Is(err, net.ErrClosed) {
				s.log().Warn("vpc resolver stopped", "err", err)
			}
		}()
		select { // serving (Close may stop it), or it failed at once
		case <-started:
		case <-exited:
		}
	}
	return r
}

// Close stops serving and closes the sockets.
func (r *Running) Close() {
	for _, srv := range r.servers {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		srv.ShutdownContext(ctx)
		cancel()
	}
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// ServeDNS implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	z := s.Zone()
	if !z.Enabled() {
		return // enableDnsSupport off: as if there were no resolver
	}
	resp := s.answer(z, w, req)
	if resp == nil {
		return
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = max(int(opt.UDPSize()), dns.MinMsgSize)
		}
		resp.Truncate(size) // too big: TC set, the client asks again over TCP
	}
	if err := w.WriteMsg(resp); err != nil {
		s.log().Debug("vpc resolver: write answer", "err", err)
	}
}

// answer makes the response to req: the resolver's own, an upstream's,
// or an error.
func (s *Server) answer(z *Zone, w dns.ResponseWriter, req *dns.Msg) *dns.Msg {
	if req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 || req.Response {
		return reply(req, dns.RcodeNotImplemented, false)
	}
	q := req.Question[0]
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		return reply(req, dns.RcodeRefused, false)
	}
	if m, ours := s.own(z, req, q); ours {
		return m
	}
	return s.forward(w, req)
}

// own answers the questions in the resolver's own names (ours false:
// someone else's).
func (s *Server) own(z *Zone, req *dns.Msg, q dns.Question) (*dns.Msg, bool) {
	name := strings.ToLower(q.Name)
	if ip, ok := reverseAddr(name); ok {
		target, ours, found := z.lookupPTR(ip)
		if !ours {
			return nil, false
		}
		return s.records(req, found, q.Qtype == dns.TypePTR || q.Qtype == dns.TypeANY,
			&dns.PTR{Hdr: header(q.Name, dns.TypePTR), Ptr: dns.Fqdn(target)}), true
	}
	ip, ours, found := z.lookupA(name)
	if !ours {
		return nil, false
	}
	return s.records(req, found, q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY,
		&dns.A{Hdr: header(q.Name, dns.TypeA), A: ip.AsSlice()}), true
}

// records is a response to one of the resolver's own names: NXDOMAIN
// when the name does not exist, the record when the type matches, and no
// record (NOERROR) for other types of an existing name.
func (s *Server) records(req *dns.Msg, found, match bool, rr dns.RR) *dns.Msg {
	if !found {
		return reply(req, dns.RcodeNameError, len(s.Upstreams) > 0)
	}
	m := reply(req, dns.RcodeSuccess, len(s.Upstreams) > 0)
	if match {
		m.Answer = append(m.Answer, rr)
	}
	return m
}

func header(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: TTL}
}

func reply(req *dns.Msg, rcode int, recursion bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(req, rcode)
	m.RecursionAvailable = recursion
	return m
}

// reverseAddr parses an IPv4 reverse name: 4.0.31.172.in-addr.arpa.
func reverseAddr(name string) (netip.Addr, bool) {
	rest, ok := strings.CutSuffix(strings.TrimSuffix(name, "."), ".in-addr.arpa")
	if !ok {
		return netip.Addr{}, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	for i, j := 0, 3; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	ip, err := netip.ParseAddr(strings.Join(parts, "."))
	if err != nil || ip.String() != strings.Join(parts, ".") {
		return netip.Addr{}, false
	}
	return ip, true
}

// forward asks the upstreams, in order, over the transport the question
// came by. Without upstreams the question is refused; when none answers,
// or too many questions are being forwarded, it fails (SERVFAIL).
func (s *Server) forward(w dns.ResponseWriter, req *dns.Msg) *dns.Msg {
	if len(s.Upstreams) == 0 {
		return reply(req, dns.RcodeRefused, false)
	}
	select {
	case s.inflight <- struct{}{}:
		defer func() { <-s.inflight }()
	default:
		return reply(req, dns.RcodeServerFailure, true)
	}
	network := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		network = "tcp"
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c := &dns.Client{Net: network, Timeout: timeout, UDPSize: dns.MaxMsgSize}
	for _, up := range s.Upstreams {
		resp, _, err := c.Exchange(req, up)
		if err != nil {
			s.log().Debug("vpc resolver: upstream failed", "upstream", up, "err", err)
			continue
		}
		resp.Id = req.Id
		return resp
	}
	return reply(req, dns.RcodeServerFailure, true)
}
