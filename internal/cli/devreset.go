package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/node"
)

// prefixFile in kumo dev's node directory records the namespace prefix of
// the data dir: every data dir names its namespaces, host veths and host
// table apart, so one's leftovers are never taken for another's and
// `kumo dev --reset` knows what is its.
const prefixFile = "netns-prefix"

var validNetnsPrefix = regexp.MustCompile(`^[A-Za-z0-9]{1,16}$`)

// devNetnsPrefix returns the data dir's namespace prefix: --netns-prefix
// when given (then recorded), else the recorded one, else "kumo" for a
// data dir that has guests but no record (made before records: its
// namespaces are "kumo-…"), else, when create, a new "kumo" + 6 hex
// digits, recorded, and "" when not (its node never ran).
func devNetnsPrefix(nodeDir, flag string, given, create bool) (string, error) {
	path := filepath.Join(nodeDir, prefixFile)
	if given {
		if !validNetnsPrefix.MatchString(flag) {
			return "", fmt.Errorf("--netns-prefix %q: want 1-16 letters or digits", flag)
		}
		return flag, recordPrefix(nodeDir, flag, create)
	}
	if b, err := os.ReadFile(path); err == nil {
		p := strings.TrimSpace(string(b))
		if !validNetnsPrefix.MatchString(p) {
			return "", fmt.Errorf("%s: bad prefix %q", path, p)
		}
		return p, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if ents, _ := os.ReadDir(filepath.Join(nodeDir, "instances")); len(ents) > 0 {
		return guestnet.DefaultPrefix, nil
	}
	if !create {
		return "", nil // the data dir's node never ran
	}
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	p := guestnet.DefaultPrefix + hex.EncodeToString(b)
	return p, recordPrefix(nodeDir, p, create)
}

func recordPrefix(nodeDir, p string, create bool) error {
	if !create {
		return nil
	}
	if err := os.MkdirAll(nodeDir, 0o700); err != nil {
		return fmt.Errorf("node directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(nodeDir, prefixFile), []byte(p+"\n"), 0o600); err != nil {
		return fmt.Errorf("record the namespace prefix: %w", err)
	}
	return nil
}

// devReset is `kumo dev --reset`: it removes from the host everything the
// data dir's node put there, and prints it.
func devReset(out io.Writer, dataDir, prefix string) error {
	if os.Geteuid() != 0 {
		return errors.New("kumo dev --reset must run as root: it kills guests and removes network namespaces")
	}
	if prefix == "" {
		fmt.Fprintf(out, "kumo dev --reset: %s holds no node: nothing of it is on this host\n", dataDir)
		return nil
	}
	res, err := node.Reset(node.ResetOptions{DataDir: filepath.Join(dataDir, "node"), NetnsPrefix: prefix})
	fmt.Fprintf(out, "kumo dev --reset: data dir %s, namespace prefix %s\n", dataDir, prefix)
	for _, l := range []struct {
		what string
		v    any
		n    int
	}{
		{"guests killed (QEMU pids)", res.Guests, len(res.Guests)},
		{"network namespaces removed", res.Namespaces, len(res.Namespaces)},
		{"host veths removed", res.Veths, len(res.Veths)},
		{"host routes removed", res.Routes, len(res.Routes)},
		{"proxy ARP entries removed", res.ProxyEntries, len(res.ProxyEntries)},
	} {
		if l.n > 0 {
			fmt.Fprintf(out, "  %-28s %v\n", l.what, l.v)
		}
	}
	if res.Table != "" {
		fmt.Fprintf(out, "  %-28s %s\n", "nftables table removed", res.Table)
	}
	if err != nil {
		return fmt.Errorf("kumo dev --reset: %w", err)
	}
	if len(res.Guests) == 0 && res.Empty() {
		fmt.Fprintln(out, "  nothing of this data dir was left on the host")
	}
	fmt.Fprintln(out, "The data dir is kept; remove it for a fresh cloud.")
	return nil
}
