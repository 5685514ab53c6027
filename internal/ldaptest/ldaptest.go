// Package ldaptest runs a real OpenLDAP slapd for tests: a throwaway
// directory under dc=kumo,dc=test with an mdb database, the memberof
// overlay, and TLS (StartTLS on the ldap:// port and an ldaps:// port)
// from a CA it generates. Users and groups are loaded and changed with
// the ldap-utils clients (ldapadd, ldapmodify), as an operator would.
package ldaptest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	// Suffix is the directory's base DN.
	Suffix = "dc=kumo,dc=test"
	// RootDN and RootPassword are the directory manager's credentials.
	RootDN       = "cn=admin," + Suffix
	RootPassword = "root-secret"
)

// Server is a running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:port (StartTLS available), LDAPSURL the
	// ldaps:// listener.
	URL, LDAPSURL string
	// CAFile is the PEM of the CA that signed the server's certificate
	// (for 127.0.0.1 and localhost).
	CAFile string
	// StartTime is how long slapd took from exec to accepting connections.
	StartTime time.Duration
	dir       string
	t         testing.TB
}

// binaries finds slapd and the ldap-utils clients.
func binaries() (slapd string, ok bool) {
	for _, p := range []string{"/usr/sbin/slapd", "/usr/local/libexec/slapd"} {
		if _, err := os.Stat(p); err == nil {
			slapd = p
			break
		}
	}
	if p, err := exec.LookPath("slapd"); err == nil && slapd == "" {
		slapd = p
	}
	_, errAdd := exec.LookPath("ldapadd")
	return slapd, slapd != "" && errAdd == nil
}

// Start runs slapd for the test and stops it at cleanup. It skips the
// test when slapd or ldap-utils are not installed (scripts/deps.sh).
func Start(t testing.TB) *Server {
	t.Helper()
	slapd, ok := binaries()
	if !ok {
		t.Skip("ldaptest: slapd and ldap-utils are not installed (apt-get install slapd ldap-utils, or scripts/deps.sh)")
	}
	dir := t.TempDir()
	s := &Server{dir: dir, t: t, CAFile: filepath.Join(dir, "ca.pem")}
	if err := writeTLS(dir); err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	ldapPort, ldapsPort := freePort(t), freePort(t)
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", ldapPort)
	s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", ldapsPort)
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(slapdConf(dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// -d 0 keeps slapd in the foreground, so it is our child and dies with
	// the test's cleanup.
	cmd := exec.Command(slapd, "-f", conf, "-h", s.URL+"/ "+s.LDAPSURL+"/", "-d", "0")
	cmd.Stdout, cmd.Stderr = &out, &out
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("ldaptest: start slapd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	if err := waitListening(fmt.Sprintf("127.0.0.1:%d", ldapPort), exited); err != nil {
		t.Fatalf("ldaptest: slapd did not start: %v\n%s", err, out.String())
	}
	s.StartTime = time.Since(begin)
	s.Add(fmt.Sprintf("dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: kumo\no: Kumo test\n\n"+
		"dn: ou=people,%[1]s\nobjectClass: organizationalUnit\nou: people\n\n"+
		"dn: ou=groups,%[1]s\nobjectClass: organizationalUnit\nou: groups\n", Suffix))
	return s
}

func waitListening(addr string, exited <-chan error) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("slapd exited: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("no listener on %s after 15s", addr)
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func slapdConf(dir string) string {
	return fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
TLSCACertificateFile %[1]s/ca.pem
TLSCertificateFile %[1]s/server.pem
TLSCertificateKeyFile %[1]s/server.key
database mdb
maxsize 67108864
suffix "%[2]s"
rootdn "%[3]s"
rootpw %[4]s
directory %[1]s/db
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint true
access to attrs=userPassword by self =xw by anonymous auth by * none
access to * by * read
`, dir, Suffix, RootDN, RootPassword)
}

// Add loads LDIF entries with ldapadd, bound as the root DN.
func (s *Server) Add(ldif string) { s.run("ldapadd", ldif) }

// Modify applies an LDIF change set with ldapmodify, bound as the root DN.
func (s *Server) Modify(ldif string) { s.run("ldapmodify", ldif) }

func (s *Server) run(tool, ldif string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, "-x", "-H", s.URL, "-D", RootDN, "-w", RootPassword)
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("ldaptest: %s: %v\n%s", tool, err, out)
	}
}

// AddUser adds uid=<uid>,ou=people with a password (inetOrgPerson and
// posixAccount, so memberUid groups can name it too).
func (s *Server) AddUser(uid, password string, uidNumber int) string {
	dn := fmt.Sprintf("uid=%s,ou=people,%s", uid, Suffix)
	s.Add(fmt.Sprintf("dn: %s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: %s\ncn: %[2]s\nsn: %[2]s\n"+
		"uidNumber: %d\ngidNumber: %[3]d\nhomeDirectory: /home/%[2]s\nuserPassword: %[4]s\n", dn, uid, uidNumber, password))
	return dn
}

// AddGroup adds cn=<cn>,ou=groups as a groupOfNames with these member DNs
// (the memberof overlay then sets memberOf on each member).
func (s *Server) AddGroup(cn string, members ...string) string {
	dn := fmt.Sprintf("cn=%s,ou=groups,%s", cn, Suffix)
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nobjectClass: groupOfNames\ncn: %s\n", dn, cn)
	for _, m := range members {
		fmt.Fprintf(&b, "member: %s\n", m)
	}
	s.Add(b.String())
	return dn
}

// AddPosixGroup adds cn=<cn>,ou=groups as a posixGroup listing memberUid values.
func (s *Server) AddPosixGroup(cn string, gid int, uids ...string) string {
	dn := fmt.Sprintf("cn=%s,ou=groups,%s", cn, Suffix)
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nobjectClass: posixGroup\ncn: %s\ngidNumber: %d\n", dn, cn, gid)
	for _, u := range uids {
		fmt.Fprintf(&b, "memberUid: %s\n", u)
	}
	s.Add(b.String())
	return dn
}

// RemoveMember drops a member DN from a groupOfNames.
func (s *Server) RemoveMember(groupDN, memberDN string) {
	s.Modify(fmt.Sprintf("dn: %s\nchangetype: modify\ndelete: member\nmember: %s\n", groupDN, memberDN))
}

// writeTLS makes a CA and a server certificate for 127.0.0.1/localhost.
func writeTLS(dir string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kumo ldaptest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("CA certificate: %w", err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	files := map[string]*pem.Block{"ca.pem": {Type: "CERTIFICATE", Bytes: caDER}, "server.pem": {Type: "CERTIFICATE", Bytes: der},
		"server.key": {Type: "PRIVATE KEY", Bytes: keyDER}}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			return err
		}
	}
	return nil
}
