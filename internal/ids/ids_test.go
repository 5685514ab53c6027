package ids

import (
	"regexp"
	"testing"
)

func TestShapes(t *testing.T) {
	cases := []struct {
		got  string
		want string
	}{
		{Resource("sg"), `^sg-[0-9a-f]{17}$`},
		{Resource("vpc"), `^vpc-[0-9a-f]{17}$`},
		{Account(), `^[1-9][0-9]{11}$`},
		{AccessKeyID(), `^AKIA[A-Z2-7]{16}$`},
		{UserID(), `^AIDA[A-Z2-7]{17}$`},
		{SecretAccessKey(), `^[A-Za-z0-9+/]{40}$`},
		{RequestID(), `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
	}
	for _, c := range cases {
		if !regexp.MustCompile(c.want).MatchString(c.got) {
			t.Errorf("%q does not match %s", c.got, c.want)
		}
	}
}

func TestResourceIDsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := Resource("vol")
		if seen[id] {
			t.Fatalf("duplicate id %s after %d draws", id, i)
		}
		seen[id] = true
	}
}
