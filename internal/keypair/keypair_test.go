package keypair

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

var (
	colonSHA1 = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){19}$`)
	colonMD5  = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){15}$`)
	// EC2's ED25519 fingerprint: 32 bytes in padded base64, no prefix.
	awsSHA256 = regexp.MustCompile(`^[A-Za-z0-9+/]{43}=$`)
)

func mustCreate(t *testing.T, keyType KeyType, format Format) *Created {
	t.Helper()
	c, err := Create(keyType, format, nil)
	if err != nil {
		t.Fatalf("Create(%s, %s): %v", keyType, format, err)
	}
	if c.KeyType != keyType {
		t.Fatalf("KeyType = %q, want %q", c.KeyType, keyType)
	}
	return c
}

func decodePEM(t *testing.T, material, wantType string) *pem.Block {
	t.Helper()
	block, rest := pem.Decode([]byte(material))
	if block == nil || block.Type != wantType {
		t.Fatalf("key material is not a PEM %q block:\n%s", wantType, material)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("data after the PEM block: %q", rest)
	}
	return block
}

// pkcs8RSA wraps PKCS#1 bytes in PKCS#8 PrivateKeyInfo by hand (RFC 5208),
// as "openssl pkcs8 -topk8 -nocrypt" does, independently of the package.
func pkcs8RSA(t *testing.T, pkcs1 []byte) []byte {
	t.Helper()
	info := struct {
		Version    int
		Algorithm  pkix.AlgorithmIdentifier
		PrivateKey []byte
	}{
		Algorithm: pkix.AlgorithmIdentifier{
			Algorithm:  asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1},
			Parameters: asn1.NullRawValue,
		},
		PrivateKey: pkcs1,
	}
	der, err := asn1.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestCreateRSAPEM(t *testing.T) {
	c := mustCreate(t, RSA, PEM)
	block := decodePEM(t, c.KeyMaterial, "RSA PRIVATE KEY")
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("not PKCS#1: %v", err)
	}
	if key.N.BitLen() != 2048 {
		t.Errorf("key is %d bits, want 2048", key.N.BitLen())
	}
	if key.Primes[0].Cmp(key.Primes[1]) <= 0 {
		t.Error("primes are not stored larger first, as OpenSSL and PuTTY keep them")
	}
	signer, err := ssh.ParsePrivateKey([]byte(c.KeyMaterial))
	if err != nil {
		t.Fatalf("ssh cannot read the key: %v", err)
	}
	if got := authorizedKey(signer.PublicKey()); got != c.PublicKey {
		t.Errorf("PublicKey = %q, want %q", c.PublicKey, got)
	}
	sum := sha1.Sum(pkcs8RSA(t, block.Bytes))
	if want := colonHex(sum[:]); c.Fingerprint != want {
		t.Errorf("Fingerprint = %s, want SHA-1 of PKCS#8 DER %s", c.Fingerprint, want)
	}
	if !colonSHA1.MatchString(c.Fingerprint) {
		t.Errorf("Fingerprint %q is not colon-separated SHA-1 hex", c.Fingerprint)
	}
}

// The AWS docs' command for a key pair EC2 created:
// openssl pkcs8 -in k.pem -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c
func TestCreatedRSAFingerprintMatchesOpenSSL(t *testing.T) {
	needTool(t, "openssl")
	c := mustCreate(t, RSA, PEM)
	path := writeFile(t, "k.pem", []byte(c.KeyMaterial))
	if out := string(runTool(t, nil, "openssl", "rsa", "-in", path, "-check", "-noout")); !strings.Contains(out, "RSA key ok") {
		t.Errorf("openssl rsa -check: %s", out)
	}
	der := runTool(t, nil, "openssl", "pkcs8", "-in", path, "-inform", "PEM", "-outform", "DER", "-topk8", "-nocrypt")
	if want := opensslDigest(t, "sha1", der); c.Fingerprint != want {
		t.Errorf("Fingerprint = %s, openssl says %s", c.Fingerprint, want)
	}
}

func TestCreateED25519PEM(t *testing.T) {
	c := mustCreate(t, ED25519, PEM)
	decodePEM(t, c.KeyMaterial, "OPENSSH PRIVATE KEY")
	raw, err := ssh.ParseRawPrivateKey([]byte(c.KeyMaterial))
	if err != nil {
		t.Fatalf("ssh cannot read the key: %v", err)
	}
	key, ok := raw.(*ed25519.PrivateKey)
	if !ok {
		t.Fatalf("key is %T, want *ed25519.PrivateKey", raw)
	}
	sshPub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if got := authorizedKey(sshPub); got != c.PublicKey {
		t.Errorf("PublicKey = %q, want %q", c.PublicKey, got)
	}
	sum := sha256.Sum256(sshPub.Marshal())
	if want := base64.StdEncoding.EncodeToString(sum[:]); c.Fingerprint != want {
		t.Errorf("Fingerprint = %s, want %s", c.Fingerprint, want)
	}
	if !awsSHA256.MatchString(c.Fingerprint) {
		t.Errorf("Fingerprint %q is not padded base64 without prefix", c.Fingerprint)
	}
}

// The AWS docs' command for an ED25519 key pair: ssh-keygen -l -f key. EC2
// shows the same digest with base64 padding and without "SHA256:".
func TestED25519FingerprintMatchesSSHKeygen(t *testing.T) {
	needTool(t, "ssh-keygen")
	c := mustCreate(t, ED25519, PEM)
	path := writeFile(t, "k.pem", []byte(c.KeyMaterial))
	if want := sshKeygenSHA256(t, path) + "="; c.Fingerprint != want {
		t.Errorf("Fingerprint = %s, ssh-keygen says %s (padded)", c.Fingerprint, want)
	}
}

// ssh-keygen -y derives the public key from our private key files, so
// OpenSSH reads them, and it must agree with PublicKey.
func TestSSHKeygenReadsCreatedPEM(t *testing.T) {
	needTool(t, "ssh-keygen")
	for _, keyType := range []KeyType{RSA, ED25519} {
		t.Run(string(keyType), func(t *testing.T) {
			c := mustCreate(t, keyType, PEM)
			path := writeFile(t, "k.pem", []byte(c.KeyMaterial))
			got := strings.TrimSpace(string(runTool(t, nil, "ssh-keygen", "-y", "-f", path)))
			if got != c.PublicKey {
				t.Errorf("ssh-keygen -y = %q, PublicKey = %q", got, c.PublicKey)
			}
		})
	}
}

func TestCreatePublicKeyLine(t *testing.T) {
	for keyType, prefix := range map[KeyType]string{RSA: "ssh-rsa ", ED25519: "ssh-ed25519 "} {
		for _, format := range []Format{PEM, PPK} {
			c := mustCreate(t, keyType, format)
			if !strings.HasPrefix(c.PublicKey, prefix) || len(strings.Fields(c.PublicKey)) != 2 ||
				strings.ContainsAny(c.PublicKey, "\r\n") {
				t.Errorf("%s/%s PublicKey %q is not a bare authorized_keys line", keyType, format, c.PublicKey)
			}
			if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.PublicKey)); err != nil {
				t.Errorf("%s/%s PublicKey does not parse: %v", keyType, format, err)
			}
		}
	}
}

func TestCreateED25519UsesRandom(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	c, err := Create(ED25519, PEM, bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(seed).Public())
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicKey != authorizedKey(want) {
		t.Errorf("PublicKey = %q, want the key of the seed read from random", c.PublicKey)
	}
}

// Creating a key pair's fingerprint from the same key must not depend on
// the private key format chosen.
func TestFingerprintIndependentOfFormat(t *testing.T) {
	seed := bytes.Repeat([]byte{9}, ed25519.SeedSize)
	pemPair, err := Create(ED25519, PEM, bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	ppkPair, err := Create(ED25519, PPK, bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if pemPair.Fingerprint != ppkPair.Fingerprint || pemPair.PublicKey != ppkPair.PublicKey {
		t.Errorf("pem %+v and ppk %+v of one key differ", pemPair, ppkPair)
	}
}

func TestCreateUnsupported(t *testing.T) {
	cases := []struct {
		keyType KeyType
		format  Format
	}{
		{"dsa", PEM},
		{"ecdsa", PPK},
		{"", PEM},
		{"RSA", PEM},
		{RSA, "der"},
		{ED25519, ""},
	}
	for _, tc := range cases {
		_, err := Create(tc.keyType, tc.format, nil)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("Create(%q, %q) error = %v, want ErrUnsupported", tc.keyType, tc.format, err)
		}
	}
}

func ExampleCreate() {
	c, err := Create(ED25519, PEM, bytes.NewReader(make([]byte, ed25519.SeedSize)))
	if err != nil {
		panic(err)
	}
	fmt.Println(c.PublicKey)
	fmt.Println(c.Fingerprint)
	// Output:
	// ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop
	// tAXFyTXI8xtDaujAEcwJslAYc9/6FKcUkd2Lw0xDhPo=
}
