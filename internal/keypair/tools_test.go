package keypair

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Helpers to check results against the command-line tools the AWS docs
// name (openssl, ssh-keygen) and against PuTTYgen. A test that needs a tool
// the machine lacks is skipped, saying which.

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed; skipping the check against it", name)
	}
}

// runTool runs name with args, feeding stdin, and returns its stdout.
func runTool(t *testing.T, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// writeFile writes content to a fresh file, private as ssh-keygen wants.
func writeFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// opensslDigest returns the colon-hex digest that "openssl <alg> -c" prints
// for data, e.g. "(stdin)= 1f:51:...".
func opensslDigest(t *testing.T, alg string, data []byte) string {
	t.Helper()
	out := strings.TrimSpace(string(runTool(t, data, "openssl", alg, "-c")))
	_, digest, ok := strings.Cut(out, "= ")
	if !ok {
		t.Fatalf("unexpected openssl %s output %q", alg, out)
	}
	return digest
}

// sshKeygenSHA256 returns the base64 part of "ssh-keygen -l -f path",
// which prints e.g. "256 SHA256:abc... comment (ED25519)".
func sshKeygenSHA256(t *testing.T, path string) string {
	t.Helper()
	fields := strings.Fields(string(runTool(t, nil, "ssh-keygen", "-l", "-E", "sha256", "-f", path)))
	if len(fields) < 2 || !strings.HasPrefix(fields[1], "SHA256:") {
		t.Fatalf("unexpected ssh-keygen -l output %q", fields)
	}
	return strings.TrimPrefix(fields[1], "SHA256:")
}

// sshKeygen makes a key pair with ssh-keygen and returns the private key
// path; the public key is at path + ".pub".
func sshKeygen(t *testing.T, args ...string) string {
	t.Helper()
	needTool(t, "ssh-keygen")
	path := filepath.Join(t.TempDir(), "key")
	base := []string{"-q", "-N", "", "-C", "tester@example", "-f", path}
	runTool(t, nil, "ssh-keygen", append(base, args...)...)
	return path
}
