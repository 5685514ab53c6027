package guestnet

import (
	"regexp"
	"strings"
	"testing"
)

func TestTapName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9]{1,15}$`)
	seen := map[string]string{}
	for _, id := range []string{
		"i-0123456789abcdef0", "i-0123456789abcdef1", "i-1123456789abcdef0",
		"i-00000000000000000", "i-fffffffffffffffff", "i-test", "instance-1", "instance-2",
		"eni-0123456789abcdef0", "eni-0123456789abcdef1", "eni-00000000000000000", "eni-test",
	} {
		name := TapName(id)
		if !valid.MatchString(name) {
			t.Errorf("TapName(%q) = %q: not a short lower-case ifname", id, name)
		}
		if again := TapName(id); again != name {
			t.Errorf("TapName(%q) not stable: %q then %q", id, name, again)
		}
		if other, dup := seen[name]; dup {
			t.Errorf("TapName(%q) = TapName(%q) = %q", id, other, name)
		}
		seen[name] = id
	}
	if got, want := TapName("i-00000000000000000"), "t00000000000000"; got != want {
		t.Errorf("TapName(zero id) = %q, want %q", got, want)
	}
	// 17 hex digits = 68 bits = 14 base-32 digits: the largest id still fits.
	if got := TapName("i-fffffffffffffffff"); got != "t7vvvvvvvvvvvvv" {
		t.Errorf("TapName(max id) = %q", got)
	}
	// An interface's tap is told apart from an instance's with the same hex.
	if got := TapName("eni-fffffffffffffffff"); got != "e7vvvvvvvvvvvvv" {
		t.Errorf("TapName(max interface id) = %q", got)
	}
}

func TestNames(t *testing.T) {
	a, _ := New(Config{Prefix: "kumo"})
	b, _ := New(Config{Prefix: "kumo2"})
	if a.NetnsPath("vpc-1") != "/run/netns/kumo-vpc-1" {
		t.Errorf("NetnsPath = %q", a.NetnsPath("vpc-1"))
	}
	va, vb := a.hostVethName("vpc-0123456789abcdef0"), b.hostVethName("vpc-0123456789abcdef0")
	if va == vb || len(va) > 15 || len(vb) > 15 || !strings.HasPrefix(va, "kumo") {
		t.Errorf("host veths %q and %q: want distinct, ≤15 chars, starting with the prefix", va, vb)
	}
	if got := bridgeName("subnet-0123456789abcdef0"); got != "br-56789abcdef0" {
		t.Errorf("bridgeName = %q", got)
	}
	if _, ok := b.vpcFromNetns("kumo-vpc-1"); ok {
		t.Error("prefix kumo2 claimed kumo's namespace")
	}
	if id, ok := a.vpcFromNetns("kumo-vpc-1"); !ok || id != "vpc-1" {
		t.Errorf("vpcFromNetns = %q, %v", id, ok)
	}
	for _, bad := range []string{"ku-mo", "ku/mo", strings.Repeat("k", 17)} {
		if _, err := New(Config{Prefix: bad}); err == nil {
			t.Errorf("New accepted prefix %q", bad)
		}
	}
}
