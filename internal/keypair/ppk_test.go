package keypair

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// ppkFile is a PPK file as read by parsePPK, a minimal reader written from
// the PuTTY manual's Appendix C for these tests.
type ppkFile struct {
	version, algorithm, encryption, comment, mac string
	public, private                              []byte
}

func parsePPK(t *testing.T, text string) ppkFile {
	t.Helper()
	if !strings.HasSuffix(text, "\n") || strings.Contains(text, "\r") {
		t.Fatalf("PPK lines must each end in LF:\n%q", text)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	next := func() string {
		if len(lines) == 0 {
			t.Fatalf("PPK file ends early:\n%s", text)
		}
		line := lines[0]
		lines = lines[1:]
		return line
	}
	header := func(name string) string {
		line := next()
		value, ok := strings.CutPrefix(line, name+": ")
		if !ok {
			t.Fatalf("PPK line %q, want header %q", line, name)
		}
		return value
	}
	blob := func(name string) []byte {
		n, err := strconv.Atoi(header(name))
		if err != nil || n < 1 {
			t.Fatalf("%s: bad line count: %v", name, err)
		}
		var encoded strings.Builder
		for i := range n {
			line := next()
			if len(line) > 64 || (i < n-1 && len(line) != 64) {
				t.Fatalf("%s line %d is %d characters; PuTTY writes 64 a line", name, i, len(line))
			}
			encoded.WriteString(line)
		}
		b, err := base64.StdEncoding.DecodeString(encoded.String())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return b
	}
	var f ppkFile
	first := next()
	rest, ok := strings.CutPrefix(first, "PuTTY-User-Key-File-")
	if !ok {
		t.Fatalf("first line %q is not a PPK header", first)
	}
	f.version, f.algorithm, _ = strings.Cut(rest, ": ")
	f.encryption = header("Encryption")
	f.comment = header("Comment")
	f.public = blob("Public-Lines")
	f.private = blob("Private-Lines")
	f.mac = header("Private-MAC")
	if len(lines) != 0 {
		t.Fatalf("unexpected lines after Private-MAC: %q", lines)
	}
	return f
}

// wantMAC computes version 2's MAC for an unencrypted file from the spec:
// HMAC-SHA-1 keyed with SHA-1("putty-private-key-file-mac-key"), over the
// five fields each prefixed with a uint32 length.
func (f ppkFile) wantMAC() string {
	var data []byte
	for _, field := range [][]byte{
		[]byte(f.algorithm), []byte(f.encryption), []byte(f.comment), f.public, f.private,
	} {
		data = binary.BigEndian.AppendUint32(data, uint32(len(field)))
		data = append(data, field...)
	}
	key := sha1.Sum([]byte("putty-private-key-file-mac-key"))
	mac := hmac.New(sha1.New, key[:])
	mac.Write(data)
	return hex.EncodeToString(mac.Sum(nil))
}

// sshFields splits SSH wire "string"s off b.
func sshFields(t *testing.T, b []byte, n int) [][]byte {
	t.Helper()
	fields := make([][]byte, n)
	for i := range fields {
		if len(b) < 4 || uint32(len(b)-4) < binary.BigEndian.Uint32(b) {
			t.Fatalf("field %d of %d is truncated", i, n)
		}
		size := binary.BigEndian.Uint32(b)
		fields[i], b = b[4:4+size], b[4+size:]
	}
	if len(b) != 0 {
		t.Fatalf("%d bytes after %d fields", len(b), n)
	}
	return fields
}

func mpint(t *testing.T, b []byte) *big.Int {
	t.Helper()
	if len(b) > 0 && b[0]&0x80 != 0 {
		t.Fatalf("mpint %x is negative", b)
	}
	if len(b) > 1 && b[0] == 0 && b[1]&0x80 == 0 {
		t.Fatalf("mpint %x has a needless leading zero", b)
	}
	return new(big.Int).SetBytes(b)
}

// readPPK checks a PPK file made by Create and returns it parsed.
func readPPK(t *testing.T, c *Created) ppkFile {
	t.Helper()
	f := parsePPK(t, c.KeyMaterial)
	if f.version != "2" || f.encryption != "none" {
		t.Errorf("PPK version %q encryption %q, want 2 and none", f.version, f.encryption)
	}
	if got := f.wantMAC(); f.mac != got {
		t.Errorf("Private-MAC = %s, recomputed %s", f.mac, got)
	}
	public, err := base64.StdEncoding.DecodeString(strings.Fields(c.PublicKey)[1])
	if err != nil {
		t.Fatal(err)
	}
	if string(f.public) != string(public) {
		t.Errorf("PPK public blob does not match PublicKey")
	}
	if f.algorithm != strings.Fields(c.PublicKey)[0] {
		t.Errorf("PPK algorithm %q, PublicKey %q", f.algorithm, c.PublicKey)
	}
	return f
}

func TestPPKRSARoundTrip(t *testing.T) {
	c := mustCreate(t, RSA, PPK)
	f := readPPK(t, c)
	pub := sshFields(t, f.public, 3)
	e, n := mpint(t, pub[1]), mpint(t, pub[2])
	priv := sshFields(t, f.private, 4)
	d, p, q, iqmp := mpint(t, priv[0]), mpint(t, priv[1]), mpint(t, priv[2]), mpint(t, priv[3])

	one := big.NewInt(1)
	if new(big.Int).Mul(p, q).Cmp(n) != 0 {
		t.Error("p·q != n")
	}
	if new(big.Int).Mod(new(big.Int).Mul(q, iqmp), p).Cmp(one) != 0 {
		t.Error("iqmp is not q⁻¹ mod p")
	}
	key := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: n, E: int(e.Int64())},
		D:         d,
		Primes:    []*big.Int{p, q},
	}
	if err := key.Validate(); err != nil {
		t.Errorf("PPK private key is not consistent: %v", err)
	}
	if n.BitLen() != 2048 {
		t.Errorf("key is %d bits, want 2048", n.BitLen())
	}
	if f.comment != "imported-openssh-key" {
		t.Errorf("comment %q", f.comment)
	}
	sum := sha1.Sum(pkcs8RSA(t, mustPKCS1(t, key)))
	if want := colonHex(sum[:]); c.Fingerprint != want {
		t.Errorf("Fingerprint = %s, want SHA-1 of PKCS#8 DER %s", c.Fingerprint, want)
	}
}

func mustPKCS1(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	key.Precompute()
	block, err := encodePEM(key)
	if err != nil {
		t.Fatal(err)
	}
	return decodePEM(t, block, "RSA PRIVATE KEY").Bytes
}

func TestPPKED25519RoundTrip(t *testing.T) {
	c := mustCreate(t, ED25519, PPK)
	f := readPPK(t, c)
	pub := sshFields(t, f.public, 2)
	priv := sshFields(t, f.private, 1)
	if len(priv[0]) != ed25519.SeedSize {
		t.Fatalf("private blob holds %d bytes, want the %d-byte seed", len(priv[0]), ed25519.SeedSize)
	}
	derived := ed25519.NewKeyFromSeed(priv[0]).Public().(ed25519.PublicKey)
	if string(derived) != string(pub[1]) {
		t.Error("the PPK private key does not derive its public key")
	}
	if f.comment != "" {
		t.Errorf("comment %q", f.comment)
	}
}

// Keys made with ssh-keygen (OpenSSH 9.2) and converted by PuTTYgen 0.78
// with "puttygen KEY -O private --ppk-param version=2".
const (
	vectorRSAPEM = `-----BEGIN RSA PRIVATE KEY-----
MIICXQIBAAKBgQDIrHAeXNdUEnuC2Dj9LHBbOOfbEu7MThXAg49NA9OdnbkiL6H7
wA89Uub4T9EaIhwOfHpuNeMfqtDuidqPNOtXCk1zgYikQL+3hocx+v0Ln90uTKVg
HYWnKZqbXXRGq143MyK5pCgJl8rCJk7DTy55l4Ejk04wNtIEgAgCIABPQwIDAQAB
AoGAYjwXvqVQO7W4hLr4WudwMRfQWGwSPi1TdKRyeA8Rfq0BPfz3XNgOHcUBkDjy
ccqU1XqWLHFwt8XU9ZDCTyxmr5vGdwaqpjYXBqveP0HReuScIpFq0lfzDvwyZItR
NMtdJcdu3clqFjxetL59p5sdvHGyNQWh8e9HlD37yOQruDECQQD++N1UurCCQqU8
U/9LFrP3oWjdlLPsAxLrdXvLoUfYGzD9d8517n75L+2BnfRTdb4NLdYvm4e5UrJo
U9UiMF9lAkEAyXuJUaQFQuQxb1RaHxzmolIGV9Vi71kwjVriNYz3SboJw44ODIk+
eZqlbT7cGHQIOnX5x+3m3VXtM98VMmBthwJAa4CiUUclhMZ0xKrlyNMZrh7wB/za
n3fsUjqGp6SolgVg8n3BHxgfkREUIsJmcYoDR6s703bQEuM7NaGjC3c5wQJBAJa+
Z9H+PrV6V4Ys/TR0AhaF+hrzGw9qkonf6okYS9gMacu218oHUQfYbVacBj4Bajqb
E+PCmc0Vwd/iU1CalrcCQQCFCb5cG6dDZILZi3kVRX+2UXKxkX2uBhsly5S6TM8u
1YhI0ckMCu0KH8T/kJOvUvfo763A3KBC3Miuu0G+gbQC
-----END RSA PRIVATE KEY-----
`
	vectorRSAPPK = `PuTTY-User-Key-File-2: ssh-rsa
Encryption: none
Comment: imported-openssh-key
Public-Lines: 4
AAAAB3NzaC1yc2EAAAADAQABAAAAgQDIrHAeXNdUEnuC2Dj9LHBbOOfbEu7MThXA
g49NA9OdnbkiL6H7wA89Uub4T9EaIhwOfHpuNeMfqtDuidqPNOtXCk1zgYikQL+3
hocx+v0Ln90uTKVgHYWnKZqbXXRGq143MyK5pCgJl8rCJk7DTy55l4Ejk04wNtIE
gAgCIABPQw==
Private-Lines: 8
AAAAgGI8F76lUDu1uIS6+FrncDEX0FhsEj4tU3SkcngPEX6tAT3891zYDh3FAZA4
8nHKlNV6lixxcLfF1PWQwk8sZq+bxncGqqY2Fwar3j9B0XrknCKRatJX8w78MmSL
UTTLXSXHbt3JahY8XrS+faebHbxxsjUFofHvR5Q9+8jkK7gxAAAAQQD++N1UurCC
QqU8U/9LFrP3oWjdlLPsAxLrdXvLoUfYGzD9d8517n75L+2BnfRTdb4NLdYvm4e5
UrJoU9UiMF9lAAAAQQDJe4lRpAVC5DFvVFofHOaiUgZX1WLvWTCNWuI1jPdJugnD
jg4MiT55mqVtPtwYdAg6dfnH7ebdVe0z3xUyYG2HAAAAQQCFCb5cG6dDZILZi3kV
RX+2UXKxkX2uBhsly5S6TM8u1YhI0ckMCu0KH8T/kJOvUvfo763A3KBC3Miuu0G+
gbQC
Private-MAC: 0119c23a0a2bd78f7451e5fbf221e94c1e46a408
`
	vectorED25519PEM = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACC83GHAbYPKrfJGE4rhghGAVWUZGpK5r/S6XVbJOT4ZHAAAAIiApa1wgKWt
cAAAAAtzc2gtZWQyNTUxOQAAACC83GHAbYPKrfJGE4rhghGAVWUZGpK5r/S6XVbJOT4ZHA
AAAEDAozsTvjV4cnQn5Q62XPTJ5/cV6NCV8y6Nh+lfClG+RLzcYcBtg8qt8kYTiuGCEYBV
ZRkakrmv9LpdVsk5PhkcAAAAAAECAwQF
-----END OPENSSH PRIVATE KEY-----
`
	vectorED25519PPK = `PuTTY-User-Key-File-2: ssh-ed25519
Encryption: none
Comment: 
Public-Lines: 2
AAAAC3NzaC1lZDI1NTE5AAAAILzcYcBtg8qt8kYTiuGCEYBVZRkakrmv9LpdVsk5
Phkc
Private-Lines: 1
AAAAIMCjOxO+NXhydCflDrZc9Mnn9xXo0JXzLo2H6V8KUb5E
Private-MAC: df23e56543402b82590b86f22e4df64860a3428a
`
)

func TestPPKMatchesPuTTYgenVectors(t *testing.T) {
	cases := map[string]struct{ pem, ppk string }{
		"rsa":     {vectorRSAPEM, vectorRSAPPK},
		"ed25519": {vectorED25519PEM, vectorED25519PPK},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			raw, err := ssh.ParseRawPrivateKey([]byte(tc.pem))
			if err != nil {
				t.Fatal(err)
			}
			if k, ok := raw.(*ed25519.PrivateKey); ok {
				raw = *k
			}
			got, err := encodePPK(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.ppk {
				t.Errorf("encodePPK =\n%s\nPuTTYgen wrote\n%s", got, tc.ppk)
			}
		})
	}
}

// PuTTYgen converting the PEM that Create would return must write exactly
// the PPK that Create would return, and PuTTYgen must load our PPK (which
// checks its MAC) and find the same public key.
func TestPPKMatchesPuTTYgen(t *testing.T) {
	needTool(t, "puttygen")
	for _, keyType := range []KeyType{RSA, ED25519} {
		t.Run(string(keyType), func(t *testing.T) {
			key := newPrivateKey(t, keyType)
			pemText, err := encodePEM(key)
			if err != nil {
				t.Fatal(err)
			}
			ppkText, err := encodePPK(key)
			if err != nil {
				t.Fatal(err)
			}
			pemPath := writeFile(t, "k.pem", []byte(pemText))
			ref := filepath.Join(t.TempDir(), "ref.ppk")
			runTool(t, nil, "puttygen", pemPath, "-O", "private", "--ppk-param", "version=2", "-o", ref)
			if got := string(readFile(t, ref)); got != ppkText {
				t.Errorf("encodePPK =\n%s\nPuTTYgen wrote\n%s", ppkText, got)
			}
			ppkPath := writeFile(t, "k.ppk", []byte(ppkText))
			fromPPK := runTool(t, nil, "puttygen", ppkPath, "-O", "public-openssh")
			fromPEM := runTool(t, nil, "puttygen", pemPath, "-O", "public-openssh")
			if string(fromPPK) != string(fromPEM) {
				t.Errorf("PuTTYgen reads public key %q from our PPK, %q from the PEM", fromPPK, fromPEM)
			}
		})
	}
}

func newPrivateKey(t *testing.T, keyType KeyType) any {
	t.Helper()
	if keyType == ED25519 {
		_, key, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	key, err := rsa.GenerateKey(nil, rsaBits)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// A user given a PPK checks its fingerprint by converting it to PEM with
// PuTTYgen and running the AWS docs' commands on that.
func TestPPKFingerprintVerifiable(t *testing.T) {
	needTool(t, "puttygen")
	t.Run("rsa", func(t *testing.T) {
		needTool(t, "openssl")
		c := mustCreate(t, RSA, PPK)
		pemPath := ppkToOpenSSH(t, c.KeyMaterial)
		der := runTool(t, nil, "openssl", "pkcs8", "-in", pemPath, "-inform", "PEM", "-outform", "DER", "-topk8", "-nocrypt")
		if want := opensslDigest(t, "sha1", der); c.Fingerprint != want {
			t.Errorf("Fingerprint = %s, openssl on PuTTYgen's PEM says %s", c.Fingerprint, want)
		}
	})
	t.Run("ed25519", func(t *testing.T) {
		needTool(t, "ssh-keygen")
		c := mustCreate(t, ED25519, PPK)
		if want := sshKeygenSHA256(t, ppkToOpenSSH(t, c.KeyMaterial)) + "="; c.Fingerprint != want {
			t.Errorf("Fingerprint = %s, ssh-keygen on PuTTYgen's key says %s", c.Fingerprint, want)
		}
	})
}

// ppkToOpenSSH has PuTTYgen export the PPK as an OpenSSH private key file.
func ppkToOpenSSH(t *testing.T, ppk string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "k.pem")
	runTool(t, nil, "puttygen", writeFile(t, "k.ppk", []byte(ppk)), "-O", "private-openssh", "-o", out)
	return out
}
