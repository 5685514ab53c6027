package sgfilter

import (
	"net/netip"
	"strings"
	"testing"
)

func TestBuildPublic(t *testing.T) {
	p := Public{Port: "veth-host", Mappings: []Mapping{
		{Public: netip.MustParseAddr("198.51.100.9"), Private: netip.MustParseAddr("10.0.1.9"),
			Routes: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}},
		{Public: netip.MustParseAddr("198.51.100.5"), Private: netip.MustParseAddr("10.0.1.5")}, // no internet route
	}}
	rs, err := BuildPublic(p)
	if err != nil {
		t.Fatal(err)
	}
	got := rs.String()
	for _, want := range []string{
		"table ip kumo_public {",
		"type nat hook 0 priority -100",
		"ip daddr 198.51.100.5/32 dnat to 10.0.1.5\n    ip daddr 198.51.100.9/32 dnat to 10.0.1.9",
		`oifname "veth-host" ip saddr 10.0.1.9/32 snat to 198.51.100.9`,
		"ct state established,related accept",
		`oifname "veth-host" ip saddr 10.0.1.9/32 accept`, // 0.0.0.0/0 matches any destination
		`iifname "veth-host" ip daddr 10.0.1.9/32 accept`,
		`iifname "veth-host" drop` + "\n" + `    oifname "veth-host" drop`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("ruleset lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, `ip saddr 10.0.1.5/32 accept`) || strings.Contains(got, `ip daddr 10.0.1.5/32 accept`) {
		t.Errorf("a mapping without an internet route is let through:\n%s", got)
	}
	if rs.BridgeHooks {
		t.Error("the public path asks for br_netfilter")
	}

	p.AllowPrivate = true
	rs, _ = BuildPublic(p)
	if got := rs.String(); !strings.Contains(got, `iifname "veth-host" accept`) || strings.Contains(got, "drop") {
		t.Errorf("AllowPrivate:\n%s", got)
	}
}

func TestBuildPublicRejects(t *testing.T) {
	a, b := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("10.0.0.1")
	for name, p := range map[string]Public{
		"no port":         {Mappings: []Mapping{{Public: a, Private: b}}},
		"long port":       {Port: "a-very-long-interface-name"},
		"public twice":    {Port: "p", Mappings: []Mapping{{Public: a, Private: b}, {Public: a, Private: netip.MustParseAddr("10.0.0.2")}}},
		"private twice":   {Port: "p", Mappings: []Mapping{{Public: a, Private: b}, {Public: netip.MustParseAddr("198.51.100.2"), Private: b}}},
		"ipv6":            {Port: "p", Mappings: []Mapping{{Public: netip.MustParseAddr("2001:db8::1"), Private: b}}},
		"ipv6 route":      {Port: "p", Mappings: []Mapping{{Public: a, Private: b, Routes: []netip.Prefix{netip.MustParsePrefix("::/0")}}}},
		"invalid address": {Port: "p", Mappings: []Mapping{{Private: b}}},
	} {
		if _, err := BuildPublic(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestBuildHostPolicy(t *testing.T) {
	rs, err := BuildHostPolicy("kumo", []string{"kumoabc", "kumo123", "kumoabc"}, "eth1")
	if err != nil {
		t.Fatal(err)
	}
	got := rs.String()
	for _, want := range []string{
		"table inet kumo_public_kumo {",
		`set ports { "kumo123", "kumoabc" }`,
		"iifname @ports oifname @ports accept",
		`iifname @ports oifname "eth1" accept`,
		`iifname "eth1" oifname @ports accept`,
		"iifname @ports drop\n    oifname @ports drop",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("host policy lacks %q:\n%s", want, got)
		}
	}
	rs, _ = BuildHostPolicy("kumo", nil, "")
	if got := rs.String(); strings.Contains(got, "eth1") || !strings.Contains(got, "iifname @ports drop") {
		t.Errorf("without an uplink:\n%s", got)
	}
	if _, err := BuildHostPolicy("", nil, ""); err == nil {
		t.Error("an empty name accepted")
	}
	if _, err := BuildHostPolicy("kumo", []string{"this-name-is-too-long"}, ""); err == nil {
		t.Error("a long port name accepted")
	}
}
