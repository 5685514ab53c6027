package sgfilter

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// nftablesMu serialises building and sending transactions (see ApplyRuleset).
var nftablesMu sync.Mutex

// Apply installs d in the network namespace at netnsPath in one nftables
// transaction: both of the package's tables are deleted (if present) and
// added again whole, so packets see either the old or the new rules and
// other tables are never touched. It also makes sure bridged IPv4/IPv6
// traffic of the namespace passes through the inet hooks (br_netfilter).
func Apply(ctx context.Context, netnsPath string, d Desired) error {
	rs, err := Build(d)
	if err != nil {
		return fmt.Errorf("build security groups: %w", err)
	}
	return ApplyRuleset(ctx, netnsPath, rs)
}

// ApplyRuleset installs a ruleset made by Build; see Apply.
func ApplyRuleset(ctx context.Context, netnsPath string, rs *Ruleset) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// github.com/google/nftables numbers anonymous sets from a package
	// variable it does not lock: two transactions built at once in one
	// process race on it. This lock guards that library state, not ours.
	nftablesMu.Lock()
	defer nftablesMu.Unlock()
	if rs.BridgeHooks {
		if err := enableBridgeNetfilter(netnsPath); err != nil {
			return err
		}
	}
	return withConn(netnsPath, func(c *nftables.Conn) error {
		for _, t := range rs.Tables {
			if err := queueTable(c, t); err != nil {
				return err
			}
		}
		if err := c.Flush(); err != nil {
			return fmt.Errorf("nftables transaction in %s: %w", netnsPath, err)
		}
		return nil
	})
}

// withConn runs fn with an nftables connection inside the namespace.
func withConn(netnsPath string, fn func(*nftables.Conn) error) error {
	f, err := os.Open(netnsPath)
	if err != nil {
		return fmt.Errorf("open netns: %w", err)
	}
	defer f.Close()
	c, err := nftables.New(nftables.WithNetNSFd(int(f.Fd())), nftables.WithSockOptions(bigBuffers))
	if err != nil {
		return fmt.Errorf("nftables in %s: %w", netnsPath, err)
	}
	return fn(c)
}

// sockBuffer bounds one transaction (about 1.5 MB for 100 interfaces of 10
// rules) and its acknowledgements; default socket buffers hold about 200 KB.
const sockBuffer = 64 << 20

// bigBuffers lets one batch (and its acknowledgements) hold the whole ruleset, as nft does
// (SO_SNDBUFFORCE needs CAP_NET_ADMIN, which nftables needs anyway).
func bigBuffers(c *netlink.Conn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, sockBuffer)
		if serr == nil { // one acknowledgement per message comes back
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, sockBuffer)
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("netlink socket buffers: %w", serr)
	}
	return nil
}

func nftTable(t Table) *nftables.Table {
	return &nftables.Table{Name: t.Name, Family: t.Family}
}

// queueTable adds to the batch: delete the table (adding it first so that
// the delete cannot fail), then the whole table.
func queueTable(c *nftables.Conn, t Table) error {
	nt := nftTable(t)
	c.AddTable(nt)
	c.DelTable(nt)
	c.AddTable(nt)
	chains := map[string]*nftables.Chain{}
	for _, ch := range t.Chains {
		nc := &nftables.Chain{Name: ch.Name, Table: nt}
		if ch.Hook != nil {
			accept := nftables.ChainPolicyAccept
			nc.Hooknum, nc.Priority, nc.Type, nc.Policy = ch.Hook, ch.Priority, cmp.Or(ch.Type, nftables.ChainTypeFilter), &accept
		}
		chains[ch.Name] = c.AddChain(nc)
	}
	for _, s := range t.Sets {
		ns := &nftables.Set{Table: nt, Name: s.Name, KeyType: s.Key}
		if s.Verdicts {
			ns.IsMap, ns.DataType = true, nftables.TypeVerdict
		}
		if err := c.AddSet(ns, setElements(s)); err != nil {
			return fmt.Errorf("set %s: %w", s.Name, err)
		}
	}
	for _, ch := range t.Chains {
		for _, r := range ch.Rules {
			c.AddRule(&nftables.Rule{Table: nt, Chain: chains[ch.Name], Exprs: r.Exprs, UserData: comment(r.Text)})
		}
	}
	return nil
}

func setElements(s Set) []nftables.SetElement {
	var out []nftables.SetElement
	for _, e := range s.Elements {
		ne := nftables.SetElement{Key: e.Key}
		if s.Verdicts {
			kind := expr.VerdictJump
			if e.Goto {
				kind = expr.VerdictGoto
			}
			ne.VerdictData = &expr.Verdict{Kind: kind, Chain: e.Chain}
		}
		out = append(out, ne)
	}
	return out
}

// commentText is what a rule's comment holds: its text, or a prefix and a
// hash when too long for nft's comments.
func commentText(text string) string {
	if len(text) <= 120 {
		return text
	}
	sum := sha256.Sum256([]byte(text))
	return text[:100] + " #" + hex.EncodeToString(sum[:8])
}

func comment(text string) []byte {
	return userdata.AppendString(nil, userdata.TypeComment, commentText(text))
}
