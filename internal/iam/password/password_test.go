package password

import (
	"strings"
	"testing"
)

func TestHashAndVerify(t *testing.T) {
	h, err := Hash("Correct-Horse-9")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") || strings.Contains(h, "Correct-Horse-9") {
		t.Errorf("hash = %s", h)
	}
	if ok, err := Verify("Correct-Horse-9", h); !ok || err != nil {
		t.Errorf("Verify(right password) = %v, %v", ok, err)
	}
	if ok, err := Verify("correct-horse-9", h); ok || err != nil {
		t.Errorf("Verify(wrong password) = %v, %v", ok, err)
	}
	h2, _ := Hash("Correct-Horse-9")
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not fresh")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=1,t=0,p=1$AA$AA", "$argon2id$v=19$m=1,t=1,p=1$!!$AA"} {
		if _, err := Verify("x", bad); err != ErrMalformed {
			t.Errorf("Verify(%q) error = %v, want ErrMalformed", bad, err)
		}
	}
}
