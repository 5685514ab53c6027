// Package keypair is the cryptography behind EC2's CreateKeyPair and
// ImportKeyPair: it makes key pairs, encodes their private halves the way
// EC2 hands them out, parses imported public keys the way EC2 accepts them,
// and computes fingerprints exactly as EC2 reports them.
//
// The rules come from the Amazon EC2 User Guide ("Create a key pair for
// your Amazon EC2 instance", "Verify the fingerprint of your key pair") and
// the EC2 API Reference (CreateKeyPair, ImportKeyPair, KeyPairInfo):
//
//   - RSA created by EC2: SHA-1 of the DER PKCS#8 private key, colon hex
//     (openssl pkcs8 -topk8 -nocrypt -outform DER | openssl sha1 -c).
//   - RSA imported: MD5 of the DER SubjectPublicKeyInfo, colon hex
//     (openssl rsa -pubout -outform DER | openssl md5 -c).
//   - ED25519, created or imported: SHA-256 of the SSH public key blob,
//     standard base64 with its "=" padding and without the "SHA256:" prefix
//     that ssh-keygen -l prints.
//
// PPK files are written as PuTTYgen itself writes them when converting the
// PEM: version 2, unencrypted, LF line ends, base64 in 64-column lines.
package keypair

import (
	"crypto"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"golang.org/x/crypto/ssh"
)

// KeyType is EC2's KeyType: "rsa" or "ed25519".
type KeyType string

// The key types EC2 supports.
const (
	RSA     KeyType = "rsa"
	ED25519 KeyType = "ed25519"
)

// Format is EC2's KeyFormat for the private key it returns: "pem" or "ppk".
type Format string

// The private key formats EC2 supports.
const (
	PEM Format = "pem"
	PPK Format = "ppk"
)

// rsaBits is the size of the RSA keys EC2 creates.
const rsaBits = 2048

var (
	// ErrUnsupported is wrapped by Create for a key type or format EC2
	// does not offer.
	ErrUnsupported = errors.New("unsupported key type or format")

	// ErrInvalidKeyFormat is wrapped by every Import failure; EC2 answers
	// these with InvalidKey.Format "Key is not in valid OpenSSH public key
	// format".
	ErrInvalidKeyFormat = errors.New("key is not in valid OpenSSH public key format")
)

// Created is a key pair made by Create.
type Created struct {
	KeyType KeyType
	// KeyMaterial is CreateKeyPair's keyMaterial: the unencrypted private
	// key, PEM (PKCS#1 for RSA, OpenSSH for ED25519) or PuTTY PPK.
	KeyMaterial string
	// Fingerprint is the fingerprint EC2 reports for a key pair it created.
	Fingerprint string
	// PublicKey is the OpenSSH authorized_keys line, without a comment.
	PublicKey string
}

// Imported is a public key accepted by Import.
type Imported struct {
	KeyType KeyType
	// Fingerprint is the fingerprint EC2 reports for an imported key.
	Fingerprint string
	// PublicKey is the OpenSSH authorized_keys line, without a comment.
	PublicKey string
}

// Create generates a key pair as CreateKeyPair does: RSA 2048 bits or
// ED25519, its private key encoded as PEM or PPK. ED25519 keys are drawn
// from random (crypto/rand when nil); since Go 1.26 RSA generation always
// uses a secure source of its own. An unsupported type or format returns an
// error wrapping ErrUnsupported.
func Create(keyType KeyType, format Format, random io.Reader) (*Created, error) {
	if format != PEM && format != PPK {
		return nil, fmt.Errorf("key format %q: %w", format, ErrUnsupported)
	}
	if random == nil {
		random = rand.Reader
	}
	switch keyType {
	case RSA:
		return createRSA(format, random)
	case ED25519:
		return createED25519(format, random)
	default:
		return nil, fmt.Errorf("key type %q: %w", keyType, ErrUnsupported)
	}
}

func createRSA(format Format, random io.Reader) (*Created, error) {
	generated, err := rsa.GenerateKey(random, rsaBits)
	if err != nil {
		return nil, fmt.Errorf("generate rsa key: %w", err)
	}
	key, err := largerPrimeFirst(generated)
	if err != nil {
		return nil, err
	}
	fingerprint, err := createdRSAFingerprint(key)
	if err != nil {
		return nil, err
	}
	return newCreated(RSA, key, fingerprint, format)
}

func createED25519(format Format, random io.Reader) (*Created, error) {
	public, private, err := ed25519.GenerateKey(random)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(public)
	if err != nil {
		return nil, fmt.Errorf("encode ed25519 public key: %w", err)
	}
	return newCreated(ED25519, private, ed25519Fingerprint(sshPub), format)
}

// largerPrimeFirst orders the primes p > q, as OpenSSL and PuTTY keep
// them. The SHA-1 fingerprint covers the whole private key encoding, so with
// one canonical order the PEM, the PPK (which PuTTY always writes p > q) and
// the fingerprint describe the same bytes: converting either file back to
// PKCS#8 reproduces the fingerprint.
func largerPrimeFirst(key *rsa.PrivateKey) (*rsa.PrivateKey, error) {
	if len(key.Primes) != 2 || key.Primes[0].Cmp(key.Primes[1]) > 0 {
		return key, nil
	}
	swapped := &rsa.PrivateKey{
		PublicKey: key.PublicKey,
		D:         key.D,
		Primes:    []*big.Int{key.Primes[1], key.Primes[0]},
	}
	if err := swapped.Validate(); err != nil {
		return nil, fmt.Errorf("reorder rsa primes: %w", err)
	}
	swapped.Precompute()
	return swapped, nil
}

// newCreated encodes private in format and describes the pair.
func newCreated(keyType KeyType, private crypto.Signer, fingerprint string, format Format) (*Created, error) {
	sshPub, err := ssh.NewPublicKey(private.Public())
	if err != nil {
		return nil, fmt.Errorf("encode %s public key: %w", keyType, err)
	}
	material, err := encodePrivate(private, format)
	if err != nil {
		return nil, err
	}
	return &Created{
		KeyType:     keyType,
		KeyMaterial: material,
		Fingerprint: fingerprint,
		PublicKey:   authorizedKey(sshPub),
	}, nil
}

// encodePrivate renders key (*rsa.PrivateKey or ed25519.PrivateKey) as
// CreateKeyPair's keyMaterial in format.
func encodePrivate(key any, format Format) (string, error) {
	if format == PPK {
		return encodePPK(key)
	}
	return encodePEM(key)
}

// encodePEM gives RSA keys as PKCS#1 ("BEGIN RSA PRIVATE KEY", as the
// CreateKeyPair reference says) and ED25519 keys, which PKCS#1 cannot hold,
// in OpenSSH's own format ("BEGIN OPENSSH PRIVATE KEY").
func encodePEM(key any) (string, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
		return string(pem.EncodeToMemory(block)), nil
	case ed25519.PrivateKey:
		block, err := ssh.MarshalPrivateKey(k, "")
		if err != nil {
			return "", fmt.Errorf("encode openssh private key: %w", err)
		}
		return string(pem.EncodeToMemory(block)), nil
	default:
		return "", fmt.Errorf("private key of type %T: %w", key, ErrUnsupported)
	}
}

// createdRSAFingerprint is the SHA-1 of the DER PKCS#8 encoding of key.
func createdRSAFingerprint(key *rsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("encode pkcs8 private key: %w", err)
	}
	sum := sha1.Sum(der)
	return colonHex(sum[:]), nil
}

// importedRSAFingerprint is the MD5 of the DER SubjectPublicKeyInfo of key.
func importedRSAFingerprint(key *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", fmt.Errorf("encode subject public key info: %w", err)
	}
	sum := md5.Sum(der)
	return colonHex(sum[:]), nil
}

// ed25519Fingerprint is ssh-keygen's SHA256 fingerprint in EC2's spelling:
// padded base64, no "SHA256:" prefix.
func ed25519Fingerprint(key ssh.PublicKey) string {
	sum := sha256.Sum256(key.Marshal())
	return base64.StdEncoding.EncodeToString(sum[:])
}

// colonHex writes b as lowercase hex pairs joined by colons, as openssl -c.
func colonHex(b []byte) string {
	pairs := make([]string, len(b))
	for i := range b {
		pairs[i] = hex.EncodeToString(b[i : i+1])
	}
	return strings.Join(pairs, ":")
}

// authorizedKey is key's authorized_keys line without comment or newline.
func authorizedKey(key ssh.PublicKey) string {
	return strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(key)), "\n")
}
