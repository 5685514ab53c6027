// Package e2etest holds what the tests that run kumo as real processes
// share: building the binary and picking a free loopback port.
package e2etest

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
)

// Build compiles cmd/kumo into dir and returns the binary's path.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "kumo")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/kumo-cloud/kumo/cmd/kumo").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// MustBuild is Build that fails the test.
func MustBuild(t testing.TB, dir string) string {
	t.Helper()
	bin, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// FreePort returns a loopback address nothing listens on right now.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
