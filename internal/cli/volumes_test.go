package cli

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestVolumeFlags(t *testing.T) {
	node := func(args ...string) (nodeFlags, error) {
		var f nodeFlags
		fs := pflag.NewFlagSet("node", pflag.ContinueOnError)
		f.register(fs)
		return f, fs.Parse(args)
	}
	f, _ := node("--volume-export-addr", "198.18.0.1:10809")
	if o, err := f.options(); err != nil || o.VolumeExportAddr != "198.18.0.1:10809" {
		t.Errorf("--volume-export-addr: %q, %v", o.VolumeExportAddr, err)
	}
	for _, bad := range []string{"node-2:10809", "198.18.0.1", "198.18.0.1:"} {
		f, _ = node("--volume-export-addr", bad)
		if _, err := f.options(); err == nil {
			t.Errorf("--volume-export-addr %q accepted", bad)
		}
	}
	f, _ = node("--volume-backend", "rbd")
	if _, err := f.options(); err == nil || !strings.Contains(err.Error(), "not supported yet") {
		t.Errorf("node --volume-backend rbd: %v", err)
	}

	server := func(args ...string) (serverFlags, error) {
		var f serverFlags
		fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
		f.register(fs)
		return f, fs.Parse(append([]string{"--data-dir", t.TempDir()}, args...))
	}
	s, _ := server("--volume-storage-gib", "100")
	if cfg, err := s.config(); err != nil || cfg.VolumeBackend != "local" || cfg.VolumeStorageGiB != 100 {
		t.Errorf("server volume flags: %q %d %v", cfg.VolumeBackend, cfg.VolumeStorageGiB, err)
	}
	for _, args := range [][]string{{"--volume-backend", "rbd"}, {"--volume-backend", "nfs"}, {"--volume-storage-gib", "-1"}} {
		s, _ = server(args...)
		if _, err := s.config(); err == nil {
			t.Errorf("server %v accepted", args)
		}
	}
}
