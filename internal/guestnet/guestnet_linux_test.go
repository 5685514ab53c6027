//go:build linux

package guestnet

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	testVPC    = "vpc-0123456789abcdef0"
	testSubnet = "subnet-0123456789abcdef0"
)

func TestEnsureSubnetIdempotent(t *testing.T) {
	m, _ := testManager(t, false)
	ctx := context.Background()
	s1, err := m.EnsureSubnet(ctx, testVPC, "10.61.0.0/16", testSubnet, "10.61.1.0/24", "")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := m.EnsureSubnet(ctx, testVPC, "10.61.0.0/16", testSubnet, "10.61.1.0/24", "10.61.1.1")
	if err != nil {
		t.Fatal(err)
	}
	want := Subnet{VPCID: testVPC, Netns: m.NetnsPath(testVPC), Bridge: "br-56789abcdef0",
		Gateway: netip.MustParsePrefix("10.61.1.1/24")}
	if s1 != want || s2 != want {
		t.Fatalf("EnsureSubnet = %+v then %+v, want %+v", s1, s2, want)
	}
	if ids, err := m.VPCs(); err != nil || !slices.Equal(ids, []string{testVPC}) {
		t.Fatalf("VPCs = %v, %v; want one namespace for %s", ids, err, testVPC)
	}
	checkSubnet(t, s1)

	// A crash halfway: the gateway address and lo's address lost.
	ns := strings.TrimPrefix(s1.Netns, defaultNetnsDir+"/")
	run(t, "ip", "-n", ns, "addr", "flush", "dev", s1.Bridge)
	run(t, "ip", "-n", ns, "addr", "del", "169.254.169.254/32", "dev", "lo")
	if _, err := m.EnsureSubnet(ctx, testVPC, "10.61.0.0/16", testSubnet, "10.61.1.0/24", ""); err != nil {
		t.Fatal(err)
	}
	checkSubnet(t, s1)
}

// checkSubnet asserts the namespace holds exactly one bridge, s's, up with
// the gateway address, and lo up with the metadata address.
func checkSubnet(t *testing.T, s Subnet) {
	t.Helper()
	var bridges []string
	for _, l := range links(t, s.Netns) {
		if l.LinkInfo.Kind == "bridge" {
			bridges = append(bridges, l.Name)
			if !l.up() || !l.hasAddr(s.Gateway.String()) {
				t.Errorf("bridge %s: up %v, addresses %+v; want up with %s", l.Name, l.up(), l.AddrInfo, s.Gateway)
			}
		}
		if l.Name == "lo" && (!l.up() || !l.hasAddr("169.254.169.254/32")) {
			t.Errorf("lo: up %v, addresses %+v; want up with 169.254.169.254/32", l.up(), l.AddrInfo)
		}
	}
	if !slices.Equal(bridges, []string{s.Bridge}) {
		t.Errorf("bridges in %s = %v, want [%s]", s.Netns, bridges, s.Bridge)
	}
	var forward string
	if err := InNetns(s.Netns, func() error {
		b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
		forward = strings.TrimSpace(string(b))
		return err
	}); err != nil || forward != "1" {
		t.Errorf("ip_forward in the namespace = %q, %v; want 1", forward, err)
	}
}

func TestEnsureSubnetReplacesStaleNetnsFile(t *testing.T) {
	m, _ := testManager(t, false)
	// A crash between creating the file and bind-mounting the namespace.
	if err := os.WriteFile(m.NetnsPath(testVPC), nil, 0o444); err != nil {
		t.Fatal(err)
	}
	s, err := m.EnsureSubnet(context.Background(), testVPC, "10.62.0.0/16", testSubnet, "10.62.1.0/24", "")
	if err != nil {
		t.Fatal(err)
	}
	checkSubnet(t, s)
}

func TestEnsureSubnetRejectsBadInput(t *testing.T) {
	m, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][5]string{
		{"vpc/../x", "10.0.0.0/16", testSubnet, "10.0.1.0/24", ""},
		{testVPC, "10.0.0.0/16", testSubnet, "10.0.1.0/24", "10.0.2.1"},
		{testVPC, "10.0.0.0/16", testSubnet, "10.0.1.0/24", "10.0.1.0"},
		{testVPC, "fd00::/64", testSubnet, "10.0.1.0/24", ""},
	} {
		if _, err := m.EnsureSubnet(context.Background(), c[0], c[1], c[2], c[3], c[4]); err == nil {
			t.Errorf("EnsureSubnet%q succeeded", c)
		}
	}
}

func TestEnsureTap(t *testing.T) {
	m, _ := testManager(t, false)
	ctx := context.Background()
	s, err := m.EnsureSubnet(ctx, testVPC, "10.63.0.0/16", testSubnet, "10.63.1.0/24", "")
	if err != nil {
		t.Fatal(err)
	}
	const instance = "i-0123456789abcdef0"
	for range 2 {
		name, err := m.EnsureTap(ctx, s, instance)
		if err != nil {
			t.Fatal(err)
		}
		if name != TapName(instance) {
			t.Fatalf("EnsureTap = %q, want %q", name, TapName(instance))
		}
		l, ok := link(t, s.Netns, name)
		if !ok {
			t.Fatalf("tap %s not in %s", name, s.Netns)
		}
		d := l.LinkInfo.Data
		if l.LinkInfo.Kind != "tun" || d["type"] != "tap" || d["vnet_hdr"] != true || d["pi"] != false ||
			d["persist"] != true || fmt.Sprint(d["user"]) != "root" {
			t.Errorf("tap %s: kind %q, info %v; want a persistent tap with vnet_hdr, no pi, user root", name, l.LinkInfo.Kind, d)
		}
		if l.Master != s.Bridge || !l.up() {
			t.Errorf("tap %s: master %q, up %v; want master %s, up", name, l.Master, l.up(), s.Bridge)
		}
	}
	if _, ok := link(t, "", TapName(instance)); ok {
		t.Errorf("tap %s appeared in the host namespace", TapName(instance))
	}
	for range 2 {
		if err := m.DeleteTap(ctx, testVPC, instance); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := link(t, s.Netns, TapName(instance)); ok {
		t.Errorf("tap %s still there after DeleteTap", TapName(instance))
	}
	if err := m.DeleteTap(ctx, "vpc-00000000000000000", instance); err != nil {
		t.Errorf("DeleteTap in a missing VPC: %v", err)
	}
}

func TestIMDSFromGuest(t *testing.T) {
	m, _ := testManager(t, false)
	ctx := context.Background()
	s, err := m.EnsureSubnet(ctx, testVPC, "10.64.0.0/16", testSubnet, "10.64.1.0/24", "")
	if err != nil {
		t.Fatal(err)
	}
	g := addGuest(t, s, "10.64.1.10/24", "10.64.1.1")
	ln, err := m.ListenIMDS(ctx, testVPC)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.RemoteAddr
		io.WriteString(w, "ami-id\ninstance-id\n")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	body := getFromGuest(t, g, "169.254.169.254:80", "/latest/meta-data/")
	if body != "ami-id\ninstance-id\n" {
		t.Errorf("body = %q", body)
	}
	if from := <-seen; !strings.HasPrefix(from, "10.64.1.10:") {
		t.Errorf("server saw the request from %s, want the guest's 10.64.1.10", from)
	}
}

// getFromGuest makes an HTTP GET over a connection dialled from inside the
// guest's namespace and returns the body.
func getFromGuest(t *testing.T, g guest, hostport, path string) string {
	t.Helper()
	var conn net.Conn
	if err := InNetns(g.path, func() error {
		var err error
		conn, err = net.DialTimeout("tcp4", hostport, 5*time.Second)
		return err
	}); err != nil {
		t.Fatalf("dial %s from the guest: %v", hostport, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req, _ := http.NewRequest(http.MethodGet, "http://"+hostport+path, nil)
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", path, resp.Status, err)
	}
	return string(b)
}

func TestExposeToHost(t *testing.T) {
	m, _ := testManager(t, true)
	ctx := context.Background()
	cidr := fmt.Sprintf("10.%d.0.0/16", 100+time.Now().Nanosecond()%100)
	vpcNet := netip.MustParsePrefix(cidr)
	subnet := netip.PrefixFrom(vpcNet.Addr().Next().Next().Next().Next(), 30).Masked() // x.y.0.4/30
	for range 2 {
		if _, err := m.EnsureSubnet(ctx, testVPC, cidr, testSubnet, subnet.String(), ""); err != nil {
			t.Fatal(err)
		}
	}
	s, err := m.EnsureSubnet(ctx, testVPC, cidr, testSubnet, subnet.String(), "")
	if err != nil {
		t.Fatal(err)
	}
	guestIP := s.Gateway.Addr().Next()
	g := addGuest(t, s, netip.PrefixFrom(guestIP, 30).String(), s.Gateway.Addr().String())

	hostVeth := m.hostVethName(testVPC)
	if out := run(t, "ip", "-4", "route", "show", "exact", cidr); !strings.Contains(out, "dev "+hostVeth) {
		t.Fatalf("host route for %s = %q, want one via %s", cidr, out, hostVeth)
	}
	if l, ok := link(t, "", hostVeth); !ok || len(l.AddrInfo) != 0 && hasIPv4(l) {
		t.Errorf("host veth %s: present %v, addresses %+v; want present without IPv4", hostVeth, ok, l.AddrInfo)
	}

	// A TCP server in the guest, dialled from the host by the guest's address.
	var ln net.Listener
	if err := InNetns(g.path, func() error {
		var err error
		ln, err = net.Listen("tcp4", net.JoinHostPort(guestIP.String(), "0"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(c, "hello %s\n", c.RemoteAddr())
	}()
	c, err := net.DialTimeout("tcp4", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial the guest %s from the host: %v", ln.Addr(), err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if err != nil || !strings.HasPrefix(line, "hello ") {
		t.Fatalf("read from the guest: %q, %v", line, err)
	}

	// Another agent's VPC with the same CIDR is not exposed: it would overlap.
	other, otherLogs := testManager(t, true)
	if _, err := other.EnsureSubnet(ctx, testVPC, cidr, testSubnet, subnet.String(), ""); err != nil {
		t.Fatal(err)
	}
	if l, ok := link(t, "", other.hostVethName(testVPC)); !ok || hasIPv4(l) {
		t.Errorf("an overlapping VPC's host veth: %+v (present %v; want present, without an address)", l, ok)
	}
	if out := run(t, "ip", "-4", "route", "show", "exact", cidr); strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("an overlapping VPC got a host route too: %q", out)
	}
	if !strings.Contains(otherLogs.String(), "overlaps a host route") {
		t.Errorf("no log line about the overlap:\n%s", otherLogs)
	}

	if err := m.DeleteVPC(ctx, testVPC); err != nil {
		t.Fatal(err)
	}
	if _, ok := link(t, "", hostVeth); ok {
		t.Errorf("host veth %s still there after DeleteVPC", hostVeth)
	}
	if out := run(t, "ip", "-4", "route", "show", "exact", cidr); strings.TrimSpace(out) != "" {
		t.Errorf("host route still there after DeleteVPC: %q", out)
	}
}

func hasIPv4(l ipLink) bool {
	for _, a := range l.AddrInfo {
		if netip.MustParseAddr(a.Local).Is4() {
			return true
		}
	}
	return false
}

// Without ExposeToHost the host gets only the VPC's port (an unaddressed
// veth for public addresses): no bridge, no tap, no route to the VPC.
func TestNoHostRouteWithoutExpose(t *testing.T) {
	m, _ := testManager(t, false)
	s, err := m.EnsureSubnet(context.Background(), testVPC, "10.65.0.0/16", testSubnet, "10.65.1.0/24", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.EnsureTap(context.Background(), s, "i-0123456789abcdef0"); err != nil {
		t.Fatal(err)
	}
	for _, l := range links(t, "") {
		if l.Name == m.HostPort(testVPC) {
			if hasIPv4(l) {
				t.Errorf("host port %s has an address", l.Name)
			}
			continue
		}
		if strings.HasPrefix(l.Name, m.prefix[:4]) || l.Name == s.Bridge || l.Name == TapName("i-0123456789abcdef0") {
			t.Errorf("link %s made in the host namespace", l.Name)
		}
	}
	if out := run(t, "ip", "-4", "route", "show", "10.65.0.0/16"); strings.TrimSpace(out) != "" {
		t.Errorf("host route made: %q", out)
	}
}

func TestInNetnsRunsCommandInside(t *testing.T) {
	m, _ := testManager(t, false)
	s, err := m.EnsureSubnet(context.Background(), testVPC, "10.66.0.0/16", testSubnet, "10.66.1.0/24", "")
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(s.Netns, &st); err != nil {
		t.Fatal(err)
	}
	hostNs, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	if err := InNetns(s.Netns, func() error {
		var err error
		out, err = exec.Command("readlink", "/proc/self/ns/net").Output()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(out)), fmt.Sprintf("net:[%d]", st.Ino); got != want {
		t.Errorf("command ran in %s, want %s (the host's is %s)", got, want, hostNs)
	}
	var dev []byte
	if err := InNetns(s.Netns, func() error {
		var err error
		dev, err = exec.Command("cat", "/proc/self/net/dev").Output()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dev), s.Bridge+":") || strings.Contains(string(dev), "eth0:") {
		t.Errorf("/proc/self/net/dev inside:\n%s\nwant %s and no eth0", dev, s.Bridge)
	}
	if again, _ := os.Readlink("/proc/self/ns/net"); again != hostNs {
		t.Errorf("process namespace changed: %s → %s", hostNs, again)
	}
	if err := InNetns(s.Netns, func() error { return io.EOF }); err != io.EOF {
		t.Errorf("InNetns returned %v, want fn's error", err)
	}
	if err := InNetns("/run/netns/kt-missing", func() error { return nil }); err == nil {
		t.Error("InNetns into a missing namespace succeeded")
	}
}

func TestDeleteVPCAndVPCs(t *testing.T) {
	m, _ := testManager(t, false)
	other, _ := testManager(t, false)
	ctx := context.Background()
	const vpc2 = "vpc-1123456789abcdef0"
	for i, id := range []string{vpc2, testVPC} {
		if _, err := m.EnsureSubnet(ctx, id, "10.67.0.0/16", testSubnet, fmt.Sprintf("10.67.%d.0/24", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.EnsureSubnet(ctx, testVPC, "10.68.0.0/16", testSubnet, "10.68.1.0/24", ""); err != nil {
		t.Fatal(err)
	}
	if ids, err := m.VPCs(); err != nil || !slices.Equal(ids, []string{testVPC, vpc2}) {
		t.Fatalf("VPCs = %v, %v; want [%s %s]", ids, err, testVPC, vpc2)
	}
	for range 2 {
		if err := m.DeleteVPC(ctx, testVPC); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(m.NetnsPath(testVPC)); !os.IsNotExist(err) {
		t.Errorf("namespace file after DeleteVPC: %v", err)
	}
	if ids, err := m.VPCs(); err != nil || !slices.Equal(ids, []string{vpc2}) {
		t.Errorf("VPCs after DeleteVPC = %v, %v; want [%s]", ids, err, vpc2)
	}
	if ids, err := other.VPCs(); err != nil || !slices.Equal(ids, []string{testVPC}) {
		t.Errorf("the other prefix's VPCs = %v, %v; want [%s]", ids, err, testVPC)
	}
}

func TestEnsureConcurrentAndConverges(t *testing.T) {
	m, _ := testManager(t, false)
	ctx := context.Background()
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			s, err := m.EnsureSubnet(ctx, testVPC, "10.70.0.0/16", testSubnet, "10.70.1.0/24", "")
			if err == nil {
				_, err = m.EnsureTap(ctx, s, fmt.Sprintf("i-%017x", i%2))
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	s, err := m.EnsureSubnet(ctx, testVPC, "10.70.0.0/16", testSubnet, "10.70.1.0/24", "")
	if err != nil {
		t.Fatal(err)
	}
	checkSubnet(t, s)

	// A link squatting on a tap's name (a crash, an operator) is replaced.
	ns := strings.TrimPrefix(s.Netns, defaultNetnsDir+"/")
	name := TapName("i-00000000000000007")
	run(t, "ip", "-n", ns, "link", "add", name, "type", "veth", "peer", "name", "squat1")
	if _, err := m.EnsureTap(ctx, s, "i-00000000000000007"); err != nil {
		t.Fatal(err)
	}
	if l, ok := link(t, s.Netns, name); !ok || l.LinkInfo.Kind != "tun" || l.Master != s.Bridge {
		t.Errorf("after EnsureTap over a veth: %+v", l)
	}
}

func TestExposeTurnedOffRemovesHostRoute(t *testing.T) {
	m, _ := testManager(t, true)
	ctx := context.Background()
	cidr := fmt.Sprintf("10.%d.0.0/16", 200+time.Now().Nanosecond()%50)
	if _, err := m.EnsureSubnet(ctx, testVPC, cidr, testSubnet, strings.Replace(cidr, "0.0/16", "1.0/24", 1), ""); err != nil {
		t.Fatal(err)
	}
	veth := m.hostVethName(testVPC)
	if _, ok := link(t, "", veth); !ok {
		t.Fatalf("host veth %s missing", veth)
	}
	m.expose = false // the agent restarted without ExposeToHost
	s, err := m.EnsureSubnet(ctx, testVPC, cidr, testSubnet, strings.Replace(cidr, "0.0/16", "1.0/24", 1), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := link(t, "", veth); !ok {
		t.Errorf("host veth %s (the public path) gone", veth)
	}
	if _, ok := link(t, s.Netns, nsVethName); !ok {
		t.Errorf("%s gone from the namespace", nsVethName)
	}
	if out := run(t, "ip", "-4", "route", "show", "exact", cidr); strings.TrimSpace(out) != "" {
		t.Errorf("host route still there: %q", out)
	}
}
