package dhcpd

import (
	"log/slog"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// responder is the packet logic of the server, without sockets: it turns a
// request into the reply to send, or nil when the request gets none.
type responder struct {
	serverIP netip.Addr
	leases   Leases
	log      *slog.Logger
	unknown  *logLimiter // rate-limits the log lines about unknown clients
}

// respond returns the reply to req, or nil when there is none.
func (s *responder) respond(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	if req.OpCode != dhcpv4.OpcodeBootRequest || req.HWType != iana.HWTypeEthernet ||
		len(req.ClientHWAddr) != 6 {
		s.log.Debug("dhcp: ignoring a packet that is not an Ethernet request",
			"op", req.OpCode, "htype", req.HWType)
		return nil
	}
	lease, ok := s.lookup(req)
	if !ok {
		return nil
	}
	mac := req.ClientHWAddr.String()
	switch t := req.MessageType(); t {
	case dhcpv4.MessageTypeDiscover:
		return s.build(req, dhcpv4.MessageTypeOffer, lease)
	case dhcpv4.MessageTypeRequest:
		return s.request(req, lease)
	case dhcpv4.MessageTypeInform:
		return s.inform(req, lease)
	case dhcpv4.MessageTypeRelease:
		s.log.Info("dhcp: client released its address", "mac", mac, "ip", req.ClientIPAddr)
	case dhcpv4.MessageTypeDecline:
		s.log.Warn("dhcp: client declined its address, which another host may be using",
			"mac", mac, "ip", req.RequestedIPAddress())
	default:
		s.log.Debug("dhcp: ignoring message", "mac", mac, "type", t)
	}
	return nil
}

// lookup finds the client's lease, logging unknown clients (rate-limited)
// and leases that cannot be served.
func (s *responder) lookup(req *dhcpv4.DHCPv4) (Lease, bool) {
	mac := req.ClientHWAddr
	lease, ok := s.leases.Lookup(mac)
	if !ok {
		if s.unknown.allow(mac.String()) {
			s.log.Info("dhcp: no lease for client; not answering",
				"mac", mac.String(), "type", req.MessageType())
		}
		return Lease{}, false
	}
	if err := lease.validate(); err != nil {
		s.log.Error("dhcp: cannot serve lease", "mac", mac.String(), "err", err)
		return Lease{}, false
	}
	return lease, true
}

// request answers a REQUEST in any state (RFC 2131 §4.3.2): ACK when the
// address asked for is the client's lease, NAK otherwise, nothing when the
// client chose another server.
func (s *responder) request(req *dhcpv4.DHCPv4, lease Lease) *dhcpv4.DHCPv4 {
	mac := req.ClientHWAddr.String()
	if sid, ok := addrOf(req.ServerIdentifier()); ok && sid != s.serverIP {
		s.log.Debug("dhcp: client chose another server", "mac", mac, "server", sid)
		return nil
	}
	asked, ok := addrOf(req.RequestedIPAddress())
	if !ok {
		asked, ok = addrOf(req.ClientIPAddr)
	}
	if !ok {
		s.log.Debug("dhcp: request names no address", "mac", mac)
		return nil
	}
	if asked != lease.IP {
		s.log.Info("dhcp: client asked for another address; NAK",
			"mac", mac, "asked", asked, "lease", lease.IP)
		return s.nak(req)
	}
	s.log.Debug("dhcp: ACK", "mac", mac, "ip", lease.IP)
	return s.build(req, dhcpv4.MessageTypeAck, lease, dhcpv4.WithClientIP(req.ClientIPAddr))
}

// inform answers an INFORM with the configuration but no address or lease
// time (RFC 2131 §4.3.5).
func (s *responder) inform(req *dhcpv4.DHCPv4, lease Lease) *dhcpv4.DHCPv4 {
	mods := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(dhcpv4.MessageTypeAck),
		dhcpv4.WithClientIP(req.ClientIPAddr),
	}
	return s.newReply(req, append(mods, s.configOptions(lease)...))
}

// build makes an OFFER or ACK of lease.
func (s *responder) build(req *dhcpv4.DHCPv4, t dhcpv4.MessageType, lease Lease,
	extra ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	mods := []dhcpv4.Modifier{dhcpv4.WithMessageType(t), dhcpv4.WithYourIP(ipOf(lease.IP))}
	mods = append(mods, s.configOptions(lease)...)
	mods = append(mods, leaseTimeOptions(lease)...)
	return s.newReply(req, append(mods, extra...))
}

func (s *responder) nak(req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	return s.newReply(req, []dhcpv4.Modifier{
		dhcpv4.WithMessageType(dhcpv4.MessageTypeNak),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(ipOf(s.serverIP))),
		dhcpv4.WithOption(dhcpv4.OptMessage("requested address is not this client's")),
	})
}

func (s *responder) newReply(req *dhcpv4.DHCPv4, mods []dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	resp, err := dhcpv4.NewReplyFromRequest(req, mods...)
	if err != nil { // only when the system's random source fails
		s.log.Error("dhcp: cannot build reply", "err", err)
		return nil
	}
	return resp
}
