package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
)

// TestPathFlagsAreAbsolute: every role resolves its relative path flags
// against the working directory at start-up (make dev passes
// --data-dir ./data; QEMU refused the relative run dir that made).
func TestPathFlagsAreAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	want := func(name, got, rel string) {
		t.Helper()
		if w := filepath.Join(dir, rel); got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}

	var sf serverFlags
	fs := pflag.NewFlagSet("dev", pflag.ContinueOnError)
	sf.register(fs)
	if err := fs.Parse([]string{"--data-dir", "./data", "--demo-image", "data/images/demo", "--instance-types", "types.json"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := sf.config()
	if err != nil {
		t.Fatal(err)
	}
	want("server data dir", cfg.DataDir, "data")
	want("demo image", cfg.DemoImage, "data/images/demo")
	want("instance types", cfg.InstanceTypesFile, "types.json")

	var nf nodeFlags
	fs = pflag.NewFlagSet("node", pflag.ContinueOnError)
	nf.register(fs)
	if err := fs.Parse([]string{"--data-dir", "node-data", "--host-netns", "ns/host"}); err != nil {
		t.Fatal(err)
	}
	o, err := nf.options()
	if err != nil {
		t.Fatal(err)
	}
	want("node data dir", o.DataDir, "node-data")
	want("host netns", o.HostNetns, "ns/host")

	af := adminFlags{dataDir: "./data"}
	if _, err := af.client(); err == nil {
		t.Fatal("admin client without a credential file")
	}
	want("admin data dir", af.dataDir, "data")

	// Absolute and empty stay as they are.
	sf = serverFlags{region: "kumo-1", zones: "a", dataDir: "/var/lib/kumo"}
	if cfg, err := sf.config(); err != nil || cfg.DataDir != "/var/lib/kumo" || cfg.DemoImage != "" || cfg.InstanceTypesFile != "" {
		t.Errorf("config = %+v, %v", cfg, err)
	}
}

// TestKumoCommand: the banner's commands name this binary as the user
// can run it: "kumo" when that is the one on $PATH (make install), else
// its path, relative below the working directory (bin/kumo after make dev).
func TestKumoCommand(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	t.Chdir(filepath.Dir(filepath.Dir(self)))
	if got, want := kumoCommand(), filepath.Join(filepath.Base(filepath.Dir(self)), filepath.Base(self)); got != want {
		t.Errorf("below the working directory: %q, want %q", got, want)
	}
	t.Chdir(t.TempDir())
	if got := kumoCommand(); got != self {
		t.Errorf("elsewhere: %q, want %q", got, self)
	}
	bin := t.TempDir()
	if err := os.Symlink(self, filepath.Join(bin, "kumo")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	if got := kumoCommand(); got != "kumo" {
		t.Errorf("on $PATH: %q, want kumo", got)
	}
}

// TestDevNetnsPrefix: each data dir gets a prefix of its own, kept across
// starts; an old data dir with guests keeps "kumo"; --reset of a data dir
// whose node never ran touches nothing (not every "kumo-" namespace).
func TestDevNetnsPrefix(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "node"), filepath.Join(t.TempDir(), "node")
	pa, err := devNetnsPrefix(a, "", false, true)
	if err != nil || !validNetnsPrefix.MatchString(pa) || len(pa) != 10 || pa[:4] != "kumo" {
		t.Fatalf("new prefix = %q, %v", pa, err)
	}
	if again, _ := devNetnsPrefix(a, "", false, true); again != pa {
		t.Errorf("second start: %q, want the recorded %q", again, pa)
	}
	if pb, _ := devNetnsPrefix(b, "", false, true); pb == pa {
		t.Errorf("two data dirs share prefix %q", pa)
	}
	if p, _ := devNetnsPrefix(a, "", false, false); p != pa {
		t.Errorf("reset: %q, want %q", p, pa)
	}
	old := filepath.Join(t.TempDir(), "node")
	if err := os.MkdirAll(filepath.Join(old, "instances", "i-0123456789abcdef0"), 0o700); err != nil {
		t.Fatal(err)
	}
	if p, _ := devNetnsPrefix(old, "", false, false); p != "kumo" {
		t.Errorf("old data dir with guests: %q, want kumo", p)
	}
	if p, err := devNetnsPrefix(filepath.Join(t.TempDir(), "node"), "", false, false); p != "" || err != nil {
		t.Errorf("reset of a data dir that never ran a node: %q, %v", p, err)
	}
	if _, err := devNetnsPrefix(a, "bad-prefix", true, true); err == nil {
		t.Error("--netns-prefix with a dash accepted")
	}
	if p, _ := devNetnsPrefix(a, "mine", true, true); p != "mine" {
		t.Errorf("--netns-prefix mine: %q", p)
	}
	if p, _ := devNetnsPrefix(a, "", false, false); p != "mine" {
		t.Errorf("after --netns-prefix mine, reset finds %q", p)
	}
}
