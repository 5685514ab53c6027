//go:build linux

package dhcpd

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func slogDebug(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestRealClientGetsFixedLease runs the server on a bridge in a namespace and
// busybox's udhcpc in guest namespaces behind it.
func TestRealClientGetsFixedLease(t *testing.T) {
	requireLab(t)
	l := newLab(t)
	lease := testLease(t, guestMAC)
	logs := l.serve(NewStaticLeases(lease))
	guest := l.addGuest(guestMAC)

	for _, tc := range []struct {
		name  string
		flags []string
		via   string
	}{
		{"unicast frame to a client without an address", nil, "frame"},
		{"broadcast flag", []string{"-B"}, "broadcast"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(logs.String())
			vars, err := udhcpc(t, guest, 3, tc.flags...)
			if err != nil {
				t.Fatal(err)
			}
			checkClientVars(t, vars)
			checkGuestNetwork(t, guest)
			waitForLogAfter(t, logs, before, "type=ACK via="+tc.via)
		})
	}
}

func checkClientVars(t *testing.T, vars map[string]string) {
	t.Helper()
	want := map[string]string{
		"ip": "10.77.0.23", "mask": "24", "router": "10.77.0.1", "dns": "10.77.0.2",
		"domain": "ec2.internal", "hostname": "ip-10-77-0-23", "mtu": "1450",
		"lease": "7200", "serverid": "10.77.0.1",
	}
	for k, v := range want {
		if got := strings.TrimSpace(vars[k]); got != v {
			t.Errorf("client got %s=%q, want %q", k, got, v)
		}
	}
	routes := vars["staticroutes"]
	for _, r := range []string{"169.254.169.254/32 10.77.0.1", "0.0.0.0/0 10.77.0.1"} {
		if !strings.Contains(routes, r) {
			t.Errorf("client's static routes %q lack %q", routes, r)
		}
	}
}

// checkGuestNetwork checks the guest's interface as the script configured it.
func checkGuestNetwork(t *testing.T, guest string) {
	t.Helper()
	lb := &lab{t: t}
	if addr := lb.ip("-n", guest, "-4", "-o", "addr", "show", "dev", "eth0"); !strings.Contains(addr, "10.77.0.23/24") {
		t.Errorf("guest address: %s", addr)
	}
	if r := lb.ip("-n", guest, "route", "get", "169.254.169.254"); !strings.Contains(r, "via 10.77.0.1 dev eth0") {
		t.Errorf("metadata route: %s", r)
	}
	if r := lb.ip("-n", guest, "route", "get", "10.78.9.9"); !strings.Contains(r, "via 10.77.0.1 dev eth0") {
		t.Errorf("default route: %s", r)
	}
}

func TestRealUnknownClientGetsNothing(t *testing.T) {
	requireLab(t)
	l := newLab(t)
	logs := l.serve(NewStaticLeases(testLease(t, guestMAC)))
	const stranger = "52:54:00:de:ad:01"
	guest := l.addGuest(stranger)
	if vars, err := udhcpc(t, guest, 2); err == nil {
		t.Fatalf("unknown client got a lease: %v", vars)
	}
	if n := strings.Count(logs.String(), "no lease for client"); n != 1 {
		t.Errorf("unknown client logged %d times, want once (rate-limited):\n%s", n, logs)
	}
	if strings.Contains(logs.String(), "sent reply") {
		t.Errorf("server answered an unknown client:\n%s", logs)
	}
}

// TestCloseEndsServe checks that Close, like the end of the context, makes
// Serve return nil.
func TestCloseEndsServe(t *testing.T) {
	requireLab(t)
	l := newLab(t)
	srv, err := New("br0", mustAddr("10.77.0.1"), NewStaticLeases(), nil,
		InNetns("/var/run/netns/"+l.host))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
}
