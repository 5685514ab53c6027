//go:build linux

package dhcpd

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// lab is a host network namespace with a bridge at 10.77.0.1/24, like a
// subnet's bridge on a node, and guest namespaces plugged into it by veths.
type lab struct {
	t      *testing.T
	prefix string // of every namespace's name
	host   string // the host namespace's name
	guests int
}

// requireLab skips unless the test can make network namespaces and run the
// tools the real test needs.
func requireLab(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the network namespace test in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: creating network namespaces needs root")
	}
	for _, tool := range []string{"ip", "busybox"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: %s not found (apt-get install iproute2 busybox)", tool)
		}
	}
}

func newLab(t *testing.T) *lab {
	t.Helper()
	l := &lab{t: t, prefix: "kumo-dhcpd-" + strings.ToLower(rand.Text()[:8])}
	l.host = l.prefix + "-host"
	if out, err := exec.Command("ip", "netns", "add", l.host).CombinedOutput(); err != nil {
		t.Skipf("skipping: cannot create a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() { l.deleteNetns(l.host) })
	l.ip("-n", l.host, "link", "set", "lo", "up")
	l.ip("-n", l.host, "link", "add", "br0", "type", "bridge")
	l.ip("-n", l.host, "addr", "add", "10.77.0.1/24", "dev", "br0")
	l.ip("-n", l.host, "link", "set", "br0", "up")
	return l
}

// addGuest makes a guest namespace whose eth0, with the given MAC address,
// is plugged into the host's bridge, and returns the namespace's name.
func (l *lab) addGuest(mac string) string {
	l.guests++
	name := fmt.Sprintf("%s-g%d", l.prefix, l.guests)
	port := fmt.Sprintf("vg%d", l.guests)
	l.ip("netns", "add", name)
	l.t.Cleanup(func() { l.deleteNetns(name) })
	l.ip("-n", l.host, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", name)
	l.ip("-n", l.host, "link", "set", port, "master", "br0", "up")
	l.ip("-n", name, "link", "set", "eth0", "address", mac, "up")
	l.ip("-n", name, "link", "set", "lo", "up")
	return name
}

func (l *lab) ip(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (l *lab) deleteNetns(name string) {
	if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
		l.t.Errorf("cleanup: ip netns del %s: %v: %s", name, err, out)
	}
}

// serve runs a Server on the host's bridge until the test ends.
func (l *lab) serve(leases Leases) *syncBuffer {
	l.t.Helper()
	logs := &syncBuffer{}
	logger := slogDebug(logs)
	srv, err := New("br0", mustAddr("10.77.0.1"), leases, logger, InNetns("/var/run/netns/"+l.host))
	if err != nil {
		l.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	l.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				l.t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			l.t.Error("Serve did not return after its context ended")
		}
		if l.t.Failed() {
			l.t.Logf("server log:\n%s", logs)
		}
	})
	return logs
}

// udhcpcScript records what udhcpc was given and configures the interface
// with it, as a distribution's script would.
const udhcpcScript = `#!/bin/sh
case "$1" in
deconfig)
	ip -4 addr flush dev "$interface"
	;;
bound|renew)
	{
		echo "ip=$ip"; echo "mask=$mask"; echo "router=$router"
		echo "staticroutes=$staticroutes"; echo "dns=$dns"; echo "domain=$domain"
		echo "hostname=$hostname"; echo "mtu=$mtu"; echo "lease=$lease"
		echo "serverid=$serverid"
	} > "$DHCP_OUT"
	ip -4 addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	set -- $staticroutes
	while [ $# -ge 2 ]; do
		ip route replace "$1" via "$2" dev "$interface"
		shift 2
	done
	;;
esac
`

// udhcpc runs busybox's DHCP client once on eth0 in the guest namespace and
// returns the variables its script was given, or an error when it got no
// lease.
func udhcpc(t *testing.T, guest string, tries int, extra ...string) (map[string]string, error) {
	t.Helper()
	dir := t.TempDir()
	script, out := dir+"/script", dir+"/lease"
	if err := os.WriteFile(script, []byte(udhcpcScript), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"netns", "exec", guest, "busybox", "udhcpc", "-f", "-q", "-n",
		"-i", "eth0", "-t", fmt.Sprint(tries), "-T", "1", "-s", script}
	cmd := exec.CommandContext(ctx, "ip", append(args, extra...)...)
	cmd.Env = append(os.Environ(), "DHCP_OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("udhcpc: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("udhcpc reported no lease: %v", err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vars[k] = v
	}
	return vars, nil
}
