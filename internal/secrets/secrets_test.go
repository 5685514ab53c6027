package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTripAndLabelBinding(t *testing.T) {
	dir := t.TempDir()
	box, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.Seal("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AKIA1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "wJalr") {
		t.Fatal("sealed text contains the plaintext")
	}
	again, err := LoadOrCreate(dir) // same key from disk
	if err != nil {
		t.Fatal(err)
	}
	got, err := again.Open(sealed, "AKIA1")
	if err != nil || got != "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := again.Open(sealed, "AKIA2"); err == nil {
		t.Fatal("a secret opened under another key id's label")
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

func TestRejectsWorldReadableKey(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, KeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir); err == nil {
		t.Fatal("accepted a key file others can read")
	}
}
