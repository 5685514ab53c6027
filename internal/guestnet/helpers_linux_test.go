//go:build linux

package guestnet

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
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

// requireNetns skips unless the test runs as root with ip available and
// can make a namespace under /run/netns.
func requireNetns(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipping: ip (iproute2) not found; the tests inspect with it")
	}
	path := defaultNetnsDir + "/ktprobe-" + randomSuffix()
	if _, err := ensureNetns(defaultNetnsDir, path); err != nil {
		t.Skipf("skipping: cannot make a network namespace under %s: %v", defaultNetnsDir, err)
	}
	if err := removeNetns(path); err != nil {
		t.Fatal(err)
	}
}

func randomSuffix() string { return strings.ToLower(rand.Text()[:8]) }

// testManager returns a Manager with a prefix of its own whose VPCs are
// deleted when the test ends, and its log.
func testManager(t *testing.T, expose bool) (*Manager, *syncBuffer) {
	t.Helper()
	requireNetns(t)
	return nodeManagerExpose(t, "", expose)
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ipLink is the part of `ip -j -d link` the tests look at.
type ipLink struct {
	Name     string   `json:"ifname"`
	Flags    []string `json:"flags"`
	Master   string   `json:"master"`
	OperMode string   `json:"operstate"`
	Address  string   `json:"address"`
	LinkInfo struct {
		Kind string         `json:"info_kind"`
		Data map[string]any `json:"info_data"`
	} `json:"linkinfo"`
	AddrInfo []struct {
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

func (l ipLink) up() bool {
	for _, f := range l.Flags {
		if f == "UP" {
			return true
		}
	}
	return false
}

func (l ipLink) hasAddr(cidr string) bool {
	for _, a := range l.AddrInfo {
		if fmt.Sprintf("%s/%d", a.Local, a.PrefixLen) == cidr {
			return true
		}
	}
	return false
}

// links lists the links (with addresses) of the namespace at path ("" for
// the host's), as ip sees them.
func links(t testing.TB, path string, args ...string) []ipLink {
	t.Helper()
	base := []string{"-j", "-d", "addr", "show"}
	if path != "" {
		base = append([]string{"-n", strings.TrimPrefix(path, defaultNetnsDir+"/")}, base...)
	}
	var ls []ipLink
	if err := json.Unmarshal([]byte(run(t, "ip", append(base, args...)...)), &ls); err != nil {
		t.Fatal(err)
	}
	return ls
}

func link(t testing.TB, path, name string) (ipLink, bool) {
	t.Helper()
	for _, l := range links(t, path) {
		if l.Name == name {
			return l, true
		}
	}
	return ipLink{}, false
}

// guest is a namespace standing in for a QEMU guest: its eth0 is a veth
// whose other end is enslaved to a subnet's bridge, as a tap would be.
type guest struct {
	name, path string
}

func addGuest(t testing.TB, s Subnet, ip, gateway string) guest {
	t.Helper()
	g := guest{name: "ktguest-" + randomSuffix()}
	g.path = defaultNetnsDir + "/" + g.name
	vpcNs := strings.TrimPrefix(s.Netns, defaultNetnsDir+"/")
	run(t, "ip", "netns", "add", g.name)
	t.Cleanup(func() { run(t, "ip", "netns", "del", g.name) })
	port := "gv" + randomSuffix()
	run(t, "ip", "-n", vpcNs, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", g.name)
	run(t, "ip", "-n", vpcNs, "link", "set", port, "master", s.Bridge, "up")
	run(t, "ip", "-n", g.name, "link", "set", "lo", "up")
	run(t, "ip", "-n", g.name, "link", "set", "eth0", "up")
	if ip != "" {
		run(t, "ip", "-n", g.name, "addr", "add", ip, "dev", "eth0")
		run(t, "ip", "-n", g.name, "route", "add", "default", "via", gateway)
	}
	return g
}
