package nodeapi

import (
	"errors"
	"strings"
	"testing"
)

func TestJoinTokenRoundTrip(t *testing.T) {
	hash := strings.Repeat("0f", 32)
	tok := NewJoinToken(hash)
	s := tok.String()
	if !strings.HasPrefix(s, "K1."+hash+".") || strings.Count(s, ".") != 3 {
		t.Fatalf("token text %q", s)
	}
	back, err := ParseJoinToken(" " + s + "\n")
	if err != nil || back != tok {
		t.Fatalf("parse %q: %+v %v", s, back, err)
	}
	if !SecretMatches(tok.Secret, HashSecret(tok.Secret)) || SecretMatches("other", HashSecret(tok.Secret)) {
		t.Fatal("secret hash comparison")
	}
	for _, bad := range []string{"", "K1", "K2." + hash + ".abcdef.abcdef", "K1.xyz.abcdef.abcdef", "K1." + hash + ".ab.abcdef",
		"K1." + hash + ".abcdef", "K1." + hash + ".ABCDEF.abcdef"} {
		if _, err := ParseJoinToken(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("ParseJoinToken(%q) = %v, want ErrBadToken", bad, err)
		}
	}
}

func TestServerAddress(t *testing.T) {
	for in, want := range map[string]string{
		"https://kumo.example:9000": "kumo.example:9000",
		"https://kumo.example/":     "kumo.example:8776",
		"10.0.0.1":                  "10.0.0.1:8776",
		"[::1]:8776":                "[::1]:8776",
		"::1":                       "[::1]:8776",
		"localhost:1234":            "localhost:1234",
	} {
		if got, err := ServerAddress(in); err != nil || got != want {
			t.Errorf("ServerAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "https://a/b"} {
		if _, err := ServerAddress(bad); err == nil {
			t.Errorf("ServerAddress(%q) accepted", bad)
		}
	}
}
