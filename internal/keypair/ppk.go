package keypair

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/crypto/ssh"
)

// PuTTY private key files, version 2, unencrypted, as specified in the PuTTY
// manual's Appendix C ("PPK file format", C.2 and C.5.1). Version 2 is read
// by every PuTTY from 0.52 on; version 3 needs 0.75 or later.
const (
	ppkVersion     = 2
	ppkEncryption  = "none"
	ppkMACKeyLabel = "putty-private-key-file-mac-key"
	ppkLineLength  = 64
)

// ppkComment is the comment PuTTYgen gives a key converted from the PEM
// Create returns: PKCS#1 carries none, so PuTTYgen writes its default for
// RSA; the OpenSSH format carries the (empty) ED25519 comment through.
func ppkComment(algorithm string) string {
	if algorithm == ssh.KeyAlgoRSA {
		return "imported-openssh-key"
	}
	return ""
}

// encodePPK renders key (*rsa.PrivateKey or ed25519.PrivateKey) as an
// unencrypted PPK version 2 file.
func encodePPK(key any) (string, error) {
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return "", fmt.Errorf("encode ppk: %w", err)
	}
	private, err := ppkPrivateBlob(key)
	if err != nil {
		return "", err
	}
	algorithm := signer.PublicKey().Type()
	public := signer.PublicKey().Marshal()
	comment := ppkComment(algorithm)

	var b strings.Builder
	fmt.Fprintf(&b, "PuTTY-User-Key-File-%d: %s\n", ppkVersion, algorithm)
	fmt.Fprintf(&b, "Encryption: %s\n", ppkEncryption)
	fmt.Fprintf(&b, "Comment: %s\n", comment)
	writePPKBlob(&b, "Public-Lines", public)
	writePPKBlob(&b, "Private-Lines", private)
	fmt.Fprintf(&b, "Private-MAC: %s\n", ppkMAC(algorithm, comment, public, private))
	return b.String(), nil
}

// ppkPrivateBlob is the private half as Appendix C.3 lays it out: for RSA
// mpint d, p, q and q⁻¹ mod p, with p the larger prime as PuTTY keeps it;
// for EdDSA the private key, which PuTTYgen writes as a string holding the
// 32-byte RFC 8032 secret (the seed), whatever its leading bits.
func ppkPrivateBlob(key any) ([]byte, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if len(k.Primes) != 2 {
			return nil, fmt.Errorf("ppk: rsa key with %d primes: %w", len(k.Primes), ErrUnsupported)
		}
		p, q := k.Primes[0], k.Primes[1]
		if p.Cmp(q) < 0 {
			p, q = q, p
		}
		iqmp := new(big.Int).ModInverse(q, p)
		return ssh.Marshal(struct{ D, P, Q, Iqmp *big.Int }{k.D, p, q, iqmp}), nil
	case ed25519.PrivateKey:
		return ssh.Marshal(struct{ Seed []byte }{k.Seed()}), nil
	default:
		return nil, fmt.Errorf("ppk: private key of type %T: %w", key, ErrUnsupported)
	}
}

// writePPKBlob writes a "<header>: <n>" line and blob as n lines of base64.
func writePPKBlob(b *strings.Builder, header string, blob []byte) {
	text := base64.StdEncoding.EncodeToString(blob)
	var lines []string
	for len(text) > ppkLineLength {
		lines = append(lines, text[:ppkLineLength])
		text = text[ppkLineLength:]
	}
	lines = append(lines, text)
	fmt.Fprintf(b, "%s: %d\n", header, len(lines))
	for _, line := range lines {
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

// ppkMAC is version 2's Private-MAC for an unencrypted key: HMAC-SHA-1,
// keyed with SHA-1 of the label and the empty passphrase, over the
// algorithm, encryption, comment, public blob and private blob, each as an
// SSH string.
func ppkMAC(algorithm, comment string, public, private []byte) string {
	key := sha1.Sum([]byte(ppkMACKeyLabel))
	mac := hmac.New(sha1.New, key[:])
	mac.Write(ssh.Marshal(struct {
		Algorithm, Encryption, Comment string
		Public, Private                []byte
	}{algorithm, ppkEncryption, comment, public, private}))
	return hex.EncodeToString(mac.Sum(nil))
}
