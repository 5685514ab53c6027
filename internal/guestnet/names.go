package guestnet

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultPrefix names namespaces when Config.Prefix is empty.
const DefaultPrefix = "kumo"

const (
	defaultNetnsDir = "/run/netns"
	maxPrefixLen    = 16
	maxIDLen        = 64
)

var (
	validPrefix = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	validID     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)
	awsHexID    = regexp.MustCompile(`^[a-z]+-([0-9a-f]{17})$`)
)

// New returns a Manager for cfg. It changes nothing on the host.
func New(cfg Config) (*Manager, error) {
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if len(prefix) > maxPrefixLen || !validPrefix.MatchString(prefix) {
		return nil, fmt.Errorf("guestnet: prefix %q: want 1-%d letters or digits", prefix, maxPrefixLen)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{
		prefix:    prefix,
		expose:    cfg.ExposeToHost,
		hostNetns: cfg.HostNetns,
		log:       log.With("component", "guestnet"),
		netnsDir:  defaultNetnsDir,
		ownersDir: cmp.Or(cfg.OwnersDir, OwnersDir),

		overlapLogged: map[string]bool{},
	}, nil
}

// NetnsPath returns the path of the VPC's network namespace.
func (m *Manager) NetnsPath(vpcID string) string {
	return filepath.Join(m.netnsDir, m.netnsName(vpcID))
}

func (m *Manager) netnsName(vpcID string) string { return m.prefix + "-" + vpcID }

// vpcFromNetns returns the VPC id of a namespace name made by this
// Manager's prefix.
func (m *Manager) vpcFromNetns(name string) (string, bool) {
	id, ok := strings.CutPrefix(name, m.prefix+"-")
	if !ok || checkID("vpc", id) != nil {
		return "", false
	}
	return id, true
}

func checkID(kind, id string) error {
	if len(id) > maxIDLen || !validID.MatchString(id) {
		return fmt.Errorf("invalid %s id %q", kind, id)
	}
	return nil
}

// TapName returns the name of the tap of an instance's primary interface
// (instanceID "i-…") or of one of its other network interfaces (the
// interface's id, "eni-…"): 15 characters at most, the same for the same
// id. AWS-shaped ids (<kind>-<17 hex>) are encoded losslessly, "t" (an
// instance) or "e" (an interface) then 14 base-32 digits, so two never
// share a tap name; other ids are hashed ("h" + 14 hex).
func TapName(id string) string {
	if m := awsHexID.FindStringSubmatch(id); m != nil {
		n, _ := new(big.Int).SetString(m[1], 16) // 68 bits: 14 base-32 digits
		d := n.Text(32)
		kind := "t"
		if strings.HasPrefix(id, "eni-") {
			kind = "e"
		}
		return kind + strings.Repeat("0", 14-len(d)) + d
	}
	return "h" + hashHex(id)[:14]
}

// bridgeName names a subnet's bridge inside its VPC's namespace.
func bridgeName(subnetID string) string {
	if m := awsHexID.FindStringSubmatch(subnetID); m != nil {
		return "br-" + m[1][5:] // the last 12 hex digits
	}
	return "bh-" + hashHex(subnetID)[:12]
}

// hostVethName names the host side of a VPC's veth: unique on the host
// for a (prefix, VPC) pair, and starting with (part of) the prefix.
func (m *Manager) hostVethName(vpcID string) string {
	p := m.prefix
	if len(p) > 4 {
		p = p[:4]
	}
	return p + hashHex(m.prefix + "/" + vpcID)[:15-len(p)]
}

func hashHex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// publicTableName is sgfilter.PublicTableName: guestnet cannot import
// sgfilter (sgfilter's tests build guests with guestnet), so the node
// package's TestPublicTableNamesAgree keeps the two equal.
const publicTableName = "kumo_public"

// PublicTableName is the name stale-state removal looks for (the node's
// tests compare it with sgfilter's).
func PublicTableName() string { return publicTableName }
