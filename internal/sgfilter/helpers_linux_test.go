package sgfilter

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// lab is a VPC-like namespace with a bridge and three guests, each in its
// own namespace behind a veth whose bridge-side end plays the tap.
type lab struct {
	t      testing.TB
	vpc    string // netns name
	guests []guest
}

type guest struct {
	ns, tap string
	mac     net.HardwareAddr
	ip      netip.Addr
}

func (l *lab) vpcPath() string { return "/run/netns/" + l.vpc }

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces and nftables)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s in PATH: %v", tool, err)
		}
	}
}

func run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func newLab(t testing.TB, n int) *lab {
	needRoot(t)
	id := fmt.Sprintf("%d", time.Now().UnixNano()%1e6)
	l := &lab{t: t, vpc: "sgt" + id}
	run(t, "ip", "netns", "add", l.vpc)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", l.vpc).Run() })
	in := func(args ...string) { run(t, append([]string{"ip", "netns", "exec", l.vpc}, args...)...) }
	in("ip", "link", "add", "br0", "type", "bridge")
	in("ip", "addr", "add", "10.9.0.1/24", "dev", "br0")
	in("ip", "link", "set", "br0", "up")
	for i := 1; i <= n; i++ {
		g := guest{
			ns:  fmt.Sprintf("sgt%sg%d", id, i),
			tap: fmt.Sprintf("tap%s%d", id, i),
			mac: net.HardwareAddr{2, 0, 0, 0, 0, byte(i)},
			ip:  netip.AddrFrom4([4]byte{10, 9, 0, byte(10 + i)}),
		}
		run(t, "ip", "netns", "add", g.ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", g.ns).Run() })
		run(t, "ip", "link", "add", g.tap, "netns", l.vpc, "type", "veth", "peer", "name", "eth0", "netns", g.ns)
		in("ip", "link", "set", g.tap, "master", "br0", "up")
		gin := func(args ...string) { run(t, append([]string{"ip", "netns", "exec", g.ns}, args...)...) }
		gin("ip", "link", "set", "eth0", "address", g.mac.String(), "up")
		gin("ip", "addr", "add", g.ip.String()+"/24", "dev", "eth0")
		gin("ip", "link", "set", "lo", "up")
		l.guests = append(l.guests, g)
	}
	return l
}

// iface is the Interface of guest i (0-based) in the given groups.
func (l *lab) iface(i int, groups ...string) Interface {
	g := l.guests[i]
	return Interface{Tap: g.tap, MAC: g.mac, IPs: []netip.Addr{g.ip}, Groups: groups, SourceDestCheck: true}
}

// serve starts a TCP server on port in guest i that writes "hi" to every
// connection.
func (l *lab) serve(i, port int) {
	var ln net.Listener
	err := inNetns("/run/netns/"+l.guests[i].ns, func() (err error) {
		ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port))
		return err
	})
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
}

// connect reports whether guest from reaches guest to's port and gets the
// greeting back; src, if valid, is the source address to use.
func (l *lab) connect(from, to, port int, src netip.Addr) bool {
	return l.connectAddr(from, netip.AddrPortFrom(l.guests[to].ip, uint16(port)), src)
}

func (l *lab) connectAddr(from int, dst netip.AddrPort, src netip.Addr) bool {
	ok := false
	err := inNetns("/run/netns/"+l.guests[from].ns, func() error {
		d := net.Dialer{Timeout: 800 * time.Millisecond}
		if src.IsValid() {
			d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
		}
		c, err := d.Dial("tcp", dst.String())
		if err != nil {
			return nil
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(800 * time.Millisecond))
		b, _ := io.ReadAll(c)
		ok = string(b) == "hi"
		return nil
	})
	if err != nil {
		l.t.Fatal(err)
	}
	return ok
}

func (l *lab) expect(from, to, port int, want bool) {
	l.t.Helper()
	if got := l.connect(from, to, port, netip.Addr{}); got != want {
		l.t.Errorf("guest %d -> guest %d port %d: reachable=%v, want %v", from+1, to+1, port, got, want)
	}
}

// udpDelivered sends one datagram from guest from (source port sport) to
// guest to's port dport and reports whether it arrived.
func (l *lab) udpDelivered(from, to, sport, dport int) bool {
	var pc net.PacketConn
	if err := inNetns("/run/netns/"+l.guests[to].ns, func() (err error) {
		pc, err = net.ListenPacket("udp4", fmt.Sprintf(":%d", dport))
		return err
	}); err != nil {
		l.t.Fatal(err)
	}
	defer pc.Close()
	if err := inNetns("/run/netns/"+l.guests[from].ns, func() error {
		c, err := net.DialUDP("udp4", &net.UDPAddr{Port: sport}, &net.UDPAddr{IP: l.guests[to].ip.AsSlice(), Port: dport})
		if err != nil {
			return err
		}
		defer c.Close()
		for range 3 {
			c.Write([]byte("offer"))
			time.Sleep(50 * time.Millisecond)
		}
		return nil
	}); err != nil {
		l.t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 16)
	n, _, err := pc.ReadFrom(buf)
	return err == nil && string(buf[:n]) == "offer"
}

func prefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
