package dhcpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// unknownLogEvery is how often one unknown MAC address is logged.
const unknownLogEvery = time.Minute

// Server is a DHCPv4 server on one interface that answers only known clients,
// each with its fixed lease.
type Server struct {
	iface    string
	serverIP netip.Addr
	resp     *responder
	socks    *sockets
	log      *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

// Option changes how New opens the server.
type Option func(*options)

type options struct {
	netnsPath string
}

// InNetns opens the server's sockets inside the network namespace at path,
// such as /var/run/netns/NAME (from `ip netns add NAME`) or /proc/PID/ns/net.
// The rest of the process stays in its own namespace.
func InNetns(path string) Option {
	return func(o *options) { o.netnsPath = path }
}

// New opens a server on iface, whose address serverIP it names as the server
// identifier and uses as the source of its replies. A nil logger discards.
func New(iface string, serverIP netip.Addr, leases Leases, logger *slog.Logger,
	opts ...Option) (*Server, error) {
	if !serverIP.Is4() {
		return nil, fmt.Errorf("dhcp: server address %v is not IPv4", serverIP)
	}
	if leases == nil {
		return nil, errors.New("dhcp: no leases")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	socks, err := openSockets(iface, o.netnsPath)
	if err != nil {
		return nil, err
	}
	logger = logger.With("iface", iface)
	return &Server{
		iface:    iface,
		serverIP: serverIP,
		socks:    socks,
		log:      logger,
		resp: &responder{
			serverIP: serverIP,
			leases:   leases,
			log:      logger,
			unknown:  newLogLimiter(unknownLogEvery, time.Now),
		},
	}, nil
}

// Serve answers requests until ctx ends or Close is called, then closes the
// server and returns nil; it returns an error if reading fails otherwise.
func (s *Server) Serve(ctx context.Context) error {
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.socks.udp.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	s.log.Info("dhcp: serving", "server", s.serverIP)
	buf := make([]byte, 65536)
	for {
		n, _, err := s.socks.udp.ReadFrom(buf)
		if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("dhcp: read on %s: %w", s.iface, err)
		}
		s.handle(buf[:n])
	}
}

// Close closes the server's sockets; Serve returns.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.socks.close() })
	return s.closeErr
}

// handle answers one received packet.
func (s *Server) handle(packet []byte) {
	req, err := dhcpv4.FromBytes(packet)
	if err != nil {
		s.log.Debug("dhcp: ignoring malformed packet", "err", err)
		return
	}
	resp := s.resp.respond(req)
	if resp == nil {
		return
	}
	dest := replyDestination(req, resp)
	mac := req.ClientHWAddr.String()
	if err := s.send(resp.ToBytes(), dest); err != nil {
		s.log.Warn("dhcp: cannot send reply", "mac", mac, "type", resp.MessageType(),
			"via", dest.kind, "to", dest.ip, "err", err)
		return
	}
	s.log.Debug("dhcp: sent reply", "mac", mac, "type", resp.MessageType(),
		"via", dest.kind, "to", dest.ip)
}

// send delivers a reply's bytes to dest.
func (s *Server) send(payload []byte, dest destination) error {
	switch dest.kind {
	case toHardware:
		packet := udpDatagram(s.serverIP, dest.ip, dhcpv4.ServerPort, dest.port, payload)
		return s.socks.sendFrame(packet, dest.mac)
	case toClientIP, toRelay:
		_, err := s.socks.udp.WriteTo(payload, &net.UDPAddr{IP: ipOf(dest.ip), Port: dest.port})
		return err
	case toBroadcast:
		_, err := s.socks.udp.WriteTo(payload, &net.UDPAddr{IP: net.IPv4bcast, Port: dest.port})
		return err
	}
	return errors.New("dhcp: unknown destination")
}
