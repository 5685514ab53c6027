package keypair

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// rsaKeyFiles is an RSA key made by ssh-keygen in every encoding EC2
// accepts, with the fingerprints the AWS docs' commands give for it.
type rsaKeyFiles struct {
	encodings   map[string][]byte
	publicKey   string // "ssh-rsa AAAA..." without comment
	fingerprint string // openssl rsa -pubout -outform DER | openssl md5 -c
}

func makeRSAKeyFiles(t *testing.T, bits string) rsaKeyFiles {
	t.Helper()
	needTool(t, "openssl")
	path := sshKeygen(t, "-t", "rsa", "-b", bits, "-m", "PEM")
	line := readFile(t, path+".pub")
	fields := strings.Fields(string(line))
	der := runTool(t, nil, "openssl", "rsa", "-in", path, "-pubout", "-outform", "DER")
	wrapped := pem.EncodeToMemory(&pem.Block{Type: "X", Bytes: der}) // base64 in 64-column lines
	wrapped = bytes.Join(bytes.Split(wrapped, []byte("\n"))[1:bytes.Count(wrapped, []byte("\n"))-1], []byte("\n"))

	files := rsaKeyFiles{
		publicKey:   fields[0] + " " + fields[1],
		fingerprint: opensslDigest(t, "md5", der),
		encodings: map[string][]byte{
			"openssh line with comment":   line,
			"openssh line, no comment":    []byte(fields[0] + " " + fields[1]),
			"openssh line, crlf padded":   []byte("  \r\n" + fields[0] + "\t" + fields[1] + " a b c\r\n\r\n"),
			"rfc4716 from ssh-keygen -e":  runTool(t, nil, "ssh-keygen", "-e", "-f", path+".pub"),
			"pem public key from openssl": runTool(t, nil, "openssl", "rsa", "-in", path, "-pubout"),
			"base64 der, one line":        []byte(base64.StdEncoding.EncodeToString(der) + "\n"),
			"base64 der, wrapped":         wrapped,
			"raw der":                     der,
		},
	}
	// The docs' other command, for keys made by OpenSSH 7.8 or later.
	pkcs1 := runTool(t, nil, "ssh-keygen", "-e", "-f", path, "-m", "PEM")
	viaPKCS1 := runTool(t, pkcs1, "openssl", "rsa", "-RSAPublicKey_in", "-outform", "DER")
	if got := opensslDigest(t, "md5", viaPKCS1); got != files.fingerprint {
		t.Fatalf("the docs' two commands disagree: %s and %s", got, files.fingerprint)
	}
	return files
}

func TestImportRSAMatchesOpenSSL(t *testing.T) {
	for _, bits := range []string{"1024", "2048", "3072", "4096"} {
		t.Run(bits, func(t *testing.T) {
			files := makeRSAKeyFiles(t, bits)
			for name, material := range files.encodings {
				got, err := Import(material)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if got.KeyType != RSA || got.Fingerprint != files.fingerprint || got.PublicKey != files.publicKey {
					t.Errorf("%s: got %+v, want fingerprint %s and key %.40s...", name, got, files.fingerprint, files.publicKey)
				}
			}
		})
	}
}

// EC2 calls the imported RSA fingerprint "the MD5 public key fingerprint as
// specified in section 4 of RFC 4716", which is ssh-keygen -E md5's digest
// of the SSH blob; but what EC2 shows, and what its docs' openssl command
// computes, is the MD5 of the DER SubjectPublicKeyInfo. Make sure we did not
// compute the other one.
func TestImportedRSAFingerprintIsNotTheSSHMD5(t *testing.T) {
	files := makeRSAKeyFiles(t, "2048")
	got, err := Import([]byte(files.publicKey))
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "k.pub", []byte(files.publicKey))
	fields := strings.Fields(string(runTool(t, nil, "ssh-keygen", "-l", "-E", "md5", "-f", path)))
	if sshMD5 := strings.TrimPrefix(fields[1], "MD5:"); got.Fingerprint == sshMD5 {
		t.Errorf("Fingerprint %s is ssh-keygen's MD5, not openssl's", got.Fingerprint)
	}
	if !colonMD5.MatchString(got.Fingerprint) {
		t.Errorf("Fingerprint %q is not colon-separated MD5 hex", got.Fingerprint)
	}
}

func TestImportED25519MatchesSSHKeygen(t *testing.T) {
	path := sshKeygen(t, "-t", "ed25519")
	line := readFile(t, path+".pub")
	fields := strings.Fields(string(line))
	want := sshKeygenSHA256(t, path+".pub") + "="
	for name, material := range map[string][]byte{
		"with comment": line,
		"no comment":   []byte(fields[0] + " " + fields[1]),
	} {
		got, err := Import(material)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.KeyType != ED25519 || got.Fingerprint != want || got.PublicKey != fields[0]+" "+fields[1] {
			t.Errorf("%s: got %+v, want fingerprint %s", name, got, want)
		}
	}
	// RFC 4716 and DER are documented for RSA keys only.
	rfc4716 := runTool(t, nil, "ssh-keygen", "-e", "-f", path+".pub")
	assertInvalid(t, "ed25519 in rfc4716", rfc4716)
}

// A key EC2 created and then imported elsewhere keeps its ED25519
// fingerprint, as the docs promise; an RSA one changes to the MD5 form.
func TestImportCreatedKey(t *testing.T) {
	for _, keyType := range []KeyType{RSA, ED25519} {
		c := mustCreate(t, keyType, PEM)
		got, err := Import([]byte(c.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		if got.PublicKey != c.PublicKey || (got.Fingerprint == c.Fingerprint) != (keyType == ED25519) {
			t.Errorf("%s: created %+v, imported %+v", keyType, c, got)
		}
	}
}

func TestImportRFC4716Headers(t *testing.T) {
	c := mustCreate(t, RSA, PEM)
	blob := strings.Fields(c.PublicKey)[1]
	var body strings.Builder
	for len(blob) > 70 {
		body.WriteString(blob[:70] + "\n")
		blob = blob[70:]
	}
	body.WriteString(blob + "\n")
	material := rfc4716Begin + "\n" +
		"Comment: \"a comment that runs on \\\n" +
		"to a second line\"\n" +
		"x-private: value\n" +
		body.String() +
		rfc4716End + "\n"
	got, err := Import([]byte(material))
	if err != nil {
		t.Fatal(err)
	}
	if got.PublicKey != c.PublicKey {
		t.Errorf("PublicKey = %q, want %q", got.PublicKey, c.PublicKey)
	}
}

func TestImportSizeLimit(t *testing.T) {
	c := mustCreate(t, ED25519, PEM)
	pad := func(n int) []byte {
		return []byte(c.PublicKey + " " + strings.Repeat("x", n-len(c.PublicKey)-1))
	}
	if _, err := Import(pad(MaxMaterialSize)); err != nil {
		t.Errorf("material of exactly MaxMaterialSize rejected: %v", err)
	}
	assertInvalid(t, "over the limit", pad(MaxMaterialSize+1))
	assertInvalid(t, "huge", bytes.Repeat([]byte("A"), 1<<20))
}

func TestImportRejects(t *testing.T) {
	rsaPair := mustCreate(t, RSA, PEM)
	edPair := mustCreate(t, ED25519, PEM)
	rsaBlob := strings.Fields(rsaPair.PublicKey)[1]
	source := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 2048)
	for i := range random {
		random[i] = byte(source.Uint32())
	}
	cases := map[string][]byte{
		"empty":                      nil,
		"blank":                      []byte(" \r\n\t\n"),
		"random bytes":               random,
		"random text":                []byte("hello, this is not a key"),
		"dsa":                        []byte(dsaLine),
		"ecdsa":                      ecdsaLine(t),
		"ecdsa der":                  ecdsaDER(t),
		"rsa private key pem":        []byte(rsaPair.KeyMaterial),
		"ed25519 openssh private":    []byte(edPair.KeyMaterial),
		"ppk private key":            []byte(mustCreate(t, RSA, PPK).KeyMaterial),
		"pkcs8 private key":          pkcs8PrivatePEM(t),
		"ssh2 private key":           []byte("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nAAAA\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n"),
		"ed25519 der":                ed25519DER(t, false),
		"ed25519 pem":                ed25519DER(t, true),
		"rsa 768 bits":               fakeRSALine(t, 768, 65537),
		"rsa 8192 bits":              fakeRSALine(t, 8192, 65537),
		"rsa 768 bits der":           fakeRSADER(t, 768, 65537),
		"rsa even exponent der":      fakeRSADER(t, 2048, 65536),
		"rsa exponent 1 der":         fakeRSADER(t, 2048, 1),
		"options before the key":     []byte(`no-pty,command="/bin/true" ` + rsaPair.PublicKey),
		"two keys":                   []byte(rsaPair.PublicKey + "\n" + edPair.PublicKey + "\n"),
		"type name mismatch":         []byte("ssh-ed25519 " + rsaBlob),
		"no key data":                []byte("ssh-rsa"),
		"type only, comment":         []byte("ssh-rsa  \n"),
		"truncated key data":         []byte("ssh-rsa " + rsaBlob[:len(rsaBlob)/2]),
		"truncated blob":             []byte("ssh-rsa " + base64.StdEncoding.EncodeToString(rsaBlobBytes(t, rsaBlob)[:100])),
		"corrupt base64":             []byte("ssh-rsa " + rsaBlob[:20] + "!" + rsaBlob[21:]),
		"certificate":                []byte("ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t"),
		"rfc4716 without end":        []byte(rfc4716Begin + "\n" + rsaBlob + "\n"),
		"rfc4716 bad begin":          []byte("---- BEGIN SSH2 PUBLIC KEY ---- x\n" + rsaBlob + "\n" + rfc4716End),
		"rfc4716 endless header":     []byte(rfc4716Begin + "\nComment: \\\n" + rfc4716End),
		"rfc4716 empty body":         []byte(rfc4716Begin + "\n" + rfc4716End),
		"pkcs1 rsa public key":       pkcs1PublicPEM(t),
		"pem with trailing data":     append(pemPublic(t), []byte("trailing\n")...),
		"pem with headers":           []byte("-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END PUBLIC KEY-----\n"),
		"malformed pem":              []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n"),
		"nul byte":                   append([]byte(rsaPair.PublicKey), 0),
		"invalid utf-8":              []byte("ssh-rsa \xff\xfe"),
		"base64 of garbage":          []byte(base64.StdEncoding.EncodeToString([]byte("not der at all"))),
		"der with trailing data":     append(derPublic(t), 0),
		"authorized_keys line twice": []byte(rsaPair.PublicKey + " " + rsaPair.PublicKey + "\n" + rsaPair.PublicKey),
	}
	for name, material := range cases {
		assertInvalid(t, name, material)
	}
}

func rsaBlobBytes(t *testing.T, blob string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(blob)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertInvalid(t *testing.T, name string, material []byte) {
	t.Helper()
	got, err := Import(material)
	if !errors.Is(err, ErrInvalidKeyFormat) {
		t.Errorf("%s: Import = %+v, %v; want ErrInvalidKeyFormat", name, got, err)
		return
	}
	reason, ok := strings.CutPrefix(err.Error(), ErrInvalidKeyFormat.Error()+": ")
	if !ok || reason == "" {
		t.Errorf("%s: error %q does not say why", name, err)
	}
	t.Logf("%s: %s", name, reason)
}

// Made by ssh-keygen -t dsa (OpenSSH 9.2).
const dsaLine = "ssh-dss AAAAB3NzaC1kc3MAAACBAPYSlUWG/p5vlpxkvDxt375mWKtfDyKr86HKzft90yZfGO3whk1xFnMq+LBxyF796xrV+IogvgMaOtTCRc9V7oAIlyevT9DHFxP08MnwYoCj2eVod2KIqs/XAiVSmZpo3NW9EX6xpNsWk1bpuLLTTHdPqU0KmgKEGnBvoR7RP1wjAAAAFQC1oEvHudWZVMlSPK7WRqXkoH+hLwAAAIEA3sWxxeVJjaGS6QFq6ULzGdfMZwChqf+pJfcFNdqSbzFTFir3uIElHbxf/KOnDJ7E666usLPXf1HXhupBGtKLMIexnL9ygJgijO1cUvGjdvS8xPZSBt5/YRrlUi95n7ICHhBgnbtxgKTGlkSdEwbxUQwS8edZx8CXqS0CcnLLuUEAAACBAO2QS2kPVHVjUqVKdTMwnnkruSLRb8Tuu+heDzsfa3Y/HQdMaH9FlkIiix7ZwhE68GhW7wL+nIALhsE3eZFB9jDwdrWYneRVW2FM3uAfYhVu4HXFCN4j+wqQI08N27YtRWm6vhR+ObIPSnefUPglSD1+csM71FOvfU91wyVe/YyL dsa@test"

func ecdsaKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func ecdsaLine(t *testing.T) []byte {
	t.Helper()
	key, err := ssh.NewPublicKey(&ecdsaKey(t).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.MarshalAuthorizedKey(key)
}

func ecdsaDER(t *testing.T) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&ecdsaKey(t).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func ed25519DER(t *testing.T, asPEM bool) []byte {
	t.Helper()
	public, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(public)
	if err != nil {
		t.Fatal(err)
	}
	if asPEM {
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	return der
}

func pkcs8PrivatePEM(t *testing.T) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(ecdsaKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func rsaPublic(t *testing.T) *rsa.PublicKey {
	t.Helper()
	return &newPrivateKey(t, RSA).(*rsa.PrivateKey).PublicKey
}

func pkcs1PublicPEM(t *testing.T) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rsaPublic(t))})
}

func derPublic(t *testing.T) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(rsaPublic(t))
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pemPublic(t *testing.T) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: derPublic(t)})
}

// fakeRSA is an RSA public key of the given size; the modulus is just an
// odd number, which is all parsing looks at.
func fakeRSA(bits, e int) *rsa.PublicKey {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.SetBit(n, 0, 1)
	return &rsa.PublicKey{N: n, E: e}
}

func fakeRSALine(t *testing.T, bits, e int) []byte {
	t.Helper()
	key, err := ssh.NewPublicKey(fakeRSA(bits, e))
	if err != nil {
		t.Fatal(err)
	}
	return ssh.MarshalAuthorizedKey(key)
}

func fakeRSADER(t *testing.T, bits, e int) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(fakeRSA(bits, e))
	if err != nil {
		t.Fatal(err)
	}
	return der
}
