package nettest

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumo-cloud/kumo/internal/netnsrun"
)

// NetnsDir is where `ip netns` keeps named namespaces.
const NetnsDir = "/run/netns"

// RequireRoot skips t unless it runs as root with ip (iproute2) on PATH,
// which every helper that makes namespaces needs.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (network namespaces, veths, bridges)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipping: needs ip (iproute2) on PATH")
	}
}

// Suffix is 8 random lowercase letters and digits, for names that must not
// collide with those of tests running at the same time.
func Suffix() string { return strings.ToLower(rand.Text()[:8]) }

// Run runs a command and fails t with its output if it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// AddNetns makes the named namespace (under NetnsDir) with lo up, deleted
// when t ends, and returns its path.
func AddNetns(t testing.TB, name string) string {
	t.Helper()
	Run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	Run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return filepath.Join(NetnsDir, name)
}

// NetnsName is the name ip gives the namespace at path, which must be
// under NetnsDir.
func NetnsName(t testing.TB, path string) string {
	t.Helper()
	if filepath.Dir(path) != NetnsDir {
		t.Fatalf("namespace %s: not under %s", path, NetnsDir)
	}
	return filepath.Base(path)
}

// InNetns runs fn on an OS thread moved into the namespace at path
// (netnsrun.Do).
func InNetns(path string, fn func() error) error { return netnsrun.Do(path, fn) }
