package sgfilter

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// Check reports whether what is installed in the namespace differs from d
// (a flushed ruleset, a missing or edited chain, rule or set element, or
// br_netfilter turned off).
func Check(ctx context.Context, netnsPath string, d Desired) (bool, error) {
	why, err := Diff(ctx, netnsPath, d)
	return why != "", err
}

// Diff is Check with the first difference found, "" when there is none.
func Diff(ctx context.Context, netnsPath string, d Desired) (string, error) {
	rs, err := Build(d)
	if err != nil {
		return "", fmt.Errorf("build security groups: %w", err)
	}
	return DiffRuleset(ctx, netnsPath, rs)
}

// DiffRuleset is Diff for a ruleset made by any of the package's builders.
func DiffRuleset(ctx context.Context, netnsPath string, rs *Ruleset) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if rs.BridgeHooks {
		on, err := bridgeNetfilterEnabled(netnsPath)
		if err != nil {
			return "", err
		}
		if !on {
			return "bridge-nf-call-iptables is off", nil
		}
	}
	var why string
	err := withConn(netnsPath, func(c *nftables.Conn) error {
		for _, t := range rs.Tables {
			w, err := diffTable(c, t)
			if err != nil || w != "" {
				why = w
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("check nftables in %s: %w", netnsPath, err)
	}
	return why, nil
}

func diffTable(c *nftables.Conn, t Table) (string, error) {
	tables, err := c.ListTablesOfFamily(t.Family)
	if err != nil {
		return "", err
	}
	if !slices.ContainsFunc(tables, func(x *nftables.Table) bool { return x.Name == t.Name }) {
		return fmt.Sprintf("table %s (family %d) missing", t.Name, t.Family), nil
	}
	nt := nftTable(t)
	if w, err := diffChains(c, t); err != nil || w != "" {
		return w, err
	}
	for _, ch := range t.Chains {
		rules, err := c.GetRules(nt, &nftables.Chain{Name: ch.Name, Table: nt})
		if err != nil {
			return "", fmt.Errorf("rules of %s: %w", ch.Name, err)
		}
		if w := diffRules(ch, rules); w != "" {
			return fmt.Sprintf("table %s chain %s: %s", t.Name, ch.Name, w), nil
		}
	}
	return diffSets(c, t)
}

func diffChains(c *nftables.Conn, t Table) (string, error) {
	all, err := c.ListChainsOfTableFamily(t.Family)
	if err != nil {
		return "", err
	}
	have := map[string]*nftables.Chain{}
	for _, ch := range all {
		if ch.Table.Name == t.Name {
			have[ch.Name] = ch
		}
	}
	if len(have) != len(t.Chains) {
		return fmt.Sprintf("table %s: %d chains, want %d", t.Name, len(have), len(t.Chains)), nil
	}
	for _, ch := range t.Chains {
		h := have[ch.Name]
		switch {
		case h == nil:
			return fmt.Sprintf("table %s: chain %s missing", t.Name, ch.Name), nil
		case (ch.Hook == nil) != (h.Hooknum == nil):
			return fmt.Sprintf("table %s: chain %s base chain mismatch", t.Name, ch.Name), nil
		case ch.Hook != nil && (*ch.Hook != *h.Hooknum || *ch.Priority != *h.Priority ||
			h.Policy == nil || *h.Policy != nftables.ChainPolicyAccept || h.Type != cmp.Or(ch.Type, nftables.ChainTypeFilter)):
			return fmt.Sprintf("table %s: chain %s hook, priority or policy changed", t.Name, ch.Name), nil
		}
	}
	return "", nil
}

func diffRules(ch Chain, rules []*nftables.Rule) string {
	if len(rules) != len(ch.Rules) {
		return fmt.Sprintf("%d rules, want %d", len(rules), len(ch.Rules))
	}
	for i, r := range ch.Rules {
		got, _ := userdata.GetString(rules[i].UserData, userdata.TypeComment)
		if got != commentText(r.Text) || len(rules[i].Exprs) != len(r.Exprs) {
			return fmt.Sprintf("rule %d is %q (%d expressions), want %q", i, got, len(rules[i].Exprs), r.Text)
		}
	}
	return ""
}

func diffSets(c *nftables.Conn, t Table) (string, error) {
	nt := nftTable(t)
	sets, err := c.GetSets(nt)
	if err != nil {
		return "", fmt.Errorf("sets of %s: %w", t.Name, err)
	}
	if len(sets) != len(t.Sets) {
		return fmt.Sprintf("table %s: %d sets, want %d", t.Name, len(sets), len(t.Sets)), nil
	}
	for _, s := range t.Sets {
		i := slices.IndexFunc(sets, func(x *nftables.Set) bool { return x.Name == s.Name })
		if i < 0 {
			return fmt.Sprintf("table %s: set %s missing", t.Name, s.Name), nil
		}
		elems, err := c.GetSetElements(sets[i])
		if err != nil {
			return "", fmt.Errorf("elements of %s: %w", s.Name, err)
		}
		if !sameElements(s, elems) {
			return fmt.Sprintf("table %s: set %s elements differ", t.Name, s.Name), nil
		}
	}
	return "", nil
}

func sameElements(s Set, got []nftables.SetElement) bool {
	key := func(k []byte, chain string) string {
		if s.Key.Name == nftables.TypeIFName.Name {
			k = bytes.TrimRight(k, "\x00")
		}
		return string(k) + "\x00" + chain
	}
	var want, have []string
	for _, e := range s.Elements {
		want = append(want, key(e.Key, e.Chain))
	}
	for _, e := range got {
		have = append(have, key(e.Key, verdictChain(e.Val)))
	}
	slices.Sort(want)
	slices.Sort(have)
	return slices.Equal(want, have)
}

// verdictChain is the chain of a verdict map element's data, as the library
// leaves it undecoded: netlink attributes NFTA_VERDICT_CODE, _CHAIN.
func verdictChain(b []byte) string {
	for len(b) >= 4 {
		n, typ := int(binary.NativeEndian.Uint16(b)), binary.NativeEndian.Uint16(b[2:])&0x3fff
		if n < 4 || n > len(b) {
			return ""
		}
		if typ == unix.NFTA_VERDICT_CHAIN {
			return strings.TrimRight(string(b[4:n]), "\x00")
		}
		b = b[min(len(b), (n+3)&^3):]
	}
	return ""
}
