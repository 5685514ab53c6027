package cli

import (
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
