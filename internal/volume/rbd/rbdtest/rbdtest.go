// Package rbdtest finds the real Ceph cluster tests use: the one named by
// KUMO_TEST_CEPH_CONF (make test starts it with scripts/test-ceph.sh), or
// one this package starts with that script when Ceph is installed.
package rbdtest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kumo-cloud/kumo/internal/volume/rbd"
)

// The test cluster's pool and user (scripts/test-ceph.sh makes them).
const (
	Pool = "kumo"
	User = "kumo"
)

// Config is the test cluster's rbd.Config. It skips the test when Ceph is
// not installed, and fails it when Ceph is installed but will not start.
func Config(t testing.TB) rbd.Config {
	t.Helper()
	if conf := os.Getenv("KUMO_TEST_CEPH_CONF"); conf != "" {
		return rbd.Config{Conf: conf, User: User, Pool: Pool}
	}
	for _, b := range []string{"rbd", "ceph-mon", "ceph-mgr", "ceph-osd"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("Ceph is not installed (%s missing; Debian: apt-get install ceph-mon ceph-mgr ceph-osd ceph-common, or scripts/deps.sh) and KUMO_TEST_CEPH_CONF is unset: skipping the RBD tests", b)
		}
	}
	out, err := exec.Command(script()).Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + string(ee.Stderr)
		}
		t.Fatalf("scripts/test-ceph.sh start: %s", msg)
	}
	return rbd.Config{Conf: strings.TrimSpace(string(out)), User: User, Pool: Pool}
}

// script is scripts/test-ceph.sh in this source tree.
func script() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "scripts", "test-ceph.sh")
}

// VolumeID is a fresh volume id (vol- and 17 hex digits, as EC2's).
func VolumeID() string {
	b := make([]byte, 9)
	rand.Read(b)
	return "vol-" + hex.EncodeToString(b)[:17]
}
