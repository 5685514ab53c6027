package dhcpd

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fakeClock is a settable time source.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func mustMAC(t *testing.T, s string) net.HardwareAddr {
	t.Helper()
	mac, err := net.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return mac
}

// testLease is the fixed lease of a guest in 10.77.0.0/24.
func testLease(t *testing.T, mac string) Lease {
	return Lease{
		MAC:        mustMAC(t, mac),
		IP:         netip.MustParseAddr("10.77.0.23"),
		Prefix:     netip.MustParsePrefix("10.77.0.0/24"),
		Router:     netip.MustParseAddr("10.77.0.1"),
		DNS:        []netip.Addr{netip.MustParseAddr("10.77.0.2")},
		DomainName: "ec2.internal",
		Hostname:   "ip-10-77-0-23",
		MTU:        1450,
		LeaseTime:  2 * time.Hour,
	}
}

// testResponder returns a responder over leases, its log and its clock.
func testResponder(leases ...Lease) (*responder, *syncBuffer, *fakeClock) {
	logs := &syncBuffer{}
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	r := &responder{
		serverIP: netip.MustParseAddr("10.77.0.1"),
		leases:   NewStaticLeases(leases...),
		log:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		unknown:  newLogLimiter(time.Minute, clock.now),
	}
	return r, logs, clock
}
