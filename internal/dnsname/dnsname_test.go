package dnsname

import "testing"

func TestNames(t *testing.T) {
	for _, c := range []struct{ region, ip, private, public string }{
		{"kumo-1", "172.31.0.4", "ip-172-31-0-4.kumo-1.compute.internal", "ec2-172-31-0-4.kumo-1.compute.kumo"},
		{"us-east-1", "10.0.1.5", "ip-10-0-1-5.ec2.internal", "ec2-10-0-1-5.us-east-1.compute.kumo"},
		{"kumo-1", "", "", ""},
	} {
		if got := Private(c.region, c.ip); got != c.private {
			t.Errorf("Private(%q, %q) = %q, want %q", c.region, c.ip, got, c.private)
		}
		if got := Public(c.region, c.ip); got != c.public {
			t.Errorf("Public(%q, %q) = %q, want %q", c.region, c.ip, got, c.public)
		}
		if c.ip == "" {
			continue
		}
		if ip, ok := ParsePrivate(c.region, c.private+"."); !ok || ip.String() != c.ip {
			t.Errorf("ParsePrivate(%q) = %v, %v", c.private, ip, ok)
		}
		if ip, ok := ParsePublic(c.region, c.public); !ok || ip.String() != c.ip {
			t.Errorf("ParsePublic(%q) = %v, %v", c.public, ip, ok)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, name := range []string{
		"ip-10-0-0-5.other.compute.internal", "ip-10-0-0-256.kumo-1.compute.internal", "ip-10-0-0.kumo-1.compute.internal",
		"ip-010-0-0-5.kumo-1.compute.internal", "x.ip-10-0-0-5.kumo-1.compute.internal", "kumo-1.compute.internal",
		"ec2-10-0-0-5.kumo-1.compute.internal", "ip-10.0.0.5.kumo-1.compute.internal",
	} {
		if ip, ok := ParsePrivate("kumo-1", name); ok {
			t.Errorf("ParsePrivate(%q) = %v, want no address", name, ip)
		}
	}
	if ip, ok := ParsePrivate("kumo-1", "IP-10-0-0-5.Kumo-1.Compute.Internal."); !ok || ip.String() != "10.0.0.5" {
		t.Errorf("names are case-insensitive: got %v %v", ip, ok)
	}
}
