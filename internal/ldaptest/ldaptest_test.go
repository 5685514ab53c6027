package ldaptest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStart starts slapd, loads a user and a group, and reads them back
// with ldapsearch over StartTLS and over ldaps.
func TestStart(t *testing.T) {
	s := Start(t)
	t.Logf("slapd start time: %v", s.StartTime)
	alice := s.AddUser("alice", "alice-pw", 1001)
	s.AddGroup("devs", alice)
	for _, args := range [][]string{{"-H", s.URL, "-ZZ"}, {"-H", s.LDAPSURL}} {
		cmd := exec.Command("ldapsearch", append(args, "-x", "-LLL", "-D", alice, "-w", "alice-pw", "-b", Suffix, "(uid=alice)", "memberOf")...)
		cmd.Env = append(cmd.Environ(), "LDAPTLS_CACERT="+s.CAFile)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ldapsearch %v: %v\n%s", args, err, out)
		}
		if !strings.Contains(string(out), "memberOf: cn=devs,ou=groups,dc=kumo,dc=test") {
			t.Fatalf("ldapsearch %v: no memberOf devs in\n%s", args, out)
		}
	}
}
