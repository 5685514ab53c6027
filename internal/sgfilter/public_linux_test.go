package sgfilter

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

// TestPublicTableLivesBesideSecurityGroups: the public path's table is
// installed, checked and repaired on its own; applying security groups
// leaves it alone, and a flushed ruleset is seen as drift.
func TestPublicTableLivesBesideSecurityGroups(t *testing.T) {
	l := newLab(t, 1)
	ctx := context.Background()
	pub, err := BuildPublic(Public{Port: "br0", Mappings: []Mapping{{Public: netip.MustParseAddr("198.51.100.7"),
		Private: netip.MustParseAddr("10.9.0.2"), Routes: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ApplyRuleset(ctx, l.vpcPath(), pub); err != nil {
		t.Fatal(err)
	}
	sg := Desired{Interfaces: []Interface{l.iface(0)}, Groups: map[string]Group{"sg-1": {ID: "sg-1"}}}
	sg.Interfaces[0].Groups = []string{"sg-1"}
	if err := Apply(ctx, l.vpcPath(), sg); err != nil {
		t.Fatal(err)
	}
	if why, err := DiffRuleset(ctx, l.vpcPath(), pub); err != nil || why != "" {
		t.Fatalf("public table after applying security groups: %q, %v", why, err)
	}
	if out := run(t, "ip", "netns", "exec", l.vpc, "nft", "list", "table", "ip", PublicTableName); !strings.Contains(out, "dnat to 10.9.0.2") {
		t.Errorf("nft shows:\n%s", out)
	}
	run(t, "ip", "netns", "exec", l.vpc, "nft", "flush", "ruleset")
	if why, err := DiffRuleset(ctx, l.vpcPath(), pub); err != nil || why == "" {
		t.Fatalf("flushed ruleset not seen: %q, %v", why, err)
	}
	if err := ApplyRuleset(ctx, l.vpcPath(), pub); err != nil {
		t.Fatal(err)
	}
	if why, err := DiffRuleset(ctx, l.vpcPath(), pub); err != nil || why != "" {
		t.Fatalf("after repair: %q, %v", why, err)
	}
}
