//go:build linux

package dhcpd

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
)

// newGuestClient opens the library's client on eth0 inside the guest
// namespace; its raw socket stays there while the test runs outside.
func newGuestClient(t *testing.T, guest string, opts ...nclient4.ClientOpt) *nclient4.Client {
	t.Helper()
	var c *nclient4.Client
	opts = append([]nclient4.ClientOpt{nclient4.WithTimeout(2 * time.Second), nclient4.WithRetry(2)}, opts...)
	err := inNetns("/var/run/netns/"+guest, func() error {
		var err error
		c, err = nclient4.New("eth0", opts...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRealRenewInformNakRelease walks a client through the rest of the
// protocol: renewing (unicast to the client's address), INFORM, a request
// for the wrong address, and RELEASE.
func TestRealRenewInformNakRelease(t *testing.T) {
	requireLab(t)
	l := newLab(t)
	logs := l.serve(NewStaticLeases(testLease(t, guestMAC)))
	guest := l.addGuest(guestMAC)
	c := newGuestClient(t, guest)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	lease, err := c.Request(ctx)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if !lease.ACK.YourIPAddr.Equal(net.IPv4(10, 77, 0, 23)) {
		t.Fatalf("leased %v", lease.ACK.YourIPAddr)
	}
	// The server unicasts to a configured client, which must answer ARP.
	l.ip("-n", guest, "addr", "add", "10.77.0.23/24", "dev", "eth0")

	if _, err := c.Renew(ctx, lease); err != nil {
		t.Errorf("renew: %v", err)
	}
	// The server logs after sending: the client may see the reply first.
	waitForLog(t, logs, "type=ACK via=unicast to=10.77.0.23")
	ack, err := c.Inform(ctx, net.IPv4(10, 77, 0, 23))
	if err != nil {
		t.Fatalf("inform: %v", err)
	}
	if !ack.YourIPAddr.IsUnspecified() || len(ack.ClasslessStaticRoute()) == 0 {
		t.Errorf("ACK to INFORM: %v", ack.Summary())
	}

	offer, err := c.DiscoverOffer(ctx)
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	_, err = c.RequestFromOffer(ctx, offer,
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 77, 0, 99))))
	if nak := new(nclient4.ErrNak); !errors.As(err, &nak) {
		t.Errorf("request for the wrong address: %v, want a NAK", err)
	}

	// The raw client sends from 0.0.0.0, which the kernel drops unless the
	// destination is a broadcast; a RELEASE goes from the client's address.
	udp := newGuestClient(t, guest, nclient4.WithUnicast(&net.UDPAddr{IP: net.IPv4(10, 77, 0, 23), Port: 68}))
	if err := udp.Release(lease); err != nil {
		t.Fatalf("release: %v", err)
	}
	waitForLog(t, logs, "client released its address")
}

func waitForLog(t *testing.T, logs *syncBuffer, want string) {
	t.Helper()
	waitForLogAfter(t, logs, 0, want)
}

// waitForLogAfter waits for want in the log written after its first from bytes.
func waitForLogAfter(t *testing.T, logs *syncBuffer, from int, want string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(logs.String()[from:], want) {
		if time.Now().After(deadline) {
			t.Errorf("log never said %q", want)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
