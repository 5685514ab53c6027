package keypair

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// FuzzImport checks that Import never panics, that it fails only with
// ErrInvalidKeyFormat, and that what it accepts imports again to the same.
func FuzzImport(f *testing.F) {
	rsaPair, err := Create(RSA, PEM, nil)
	if err != nil {
		f.Fatal(err)
	}
	edPair, err := Create(ED25519, PPK, nil)
	if err != nil {
		f.Fatal(err)
	}
	blob := strings.Fields(rsaPair.PublicKey)[1]
	der, err := importedDER(rsaPair.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		rsaPair.PublicKey,
		edPair.PublicKey + " comment here\n",
		rsaPair.KeyMaterial,
		edPair.KeyMaterial,
		rfc4716Begin + "\nComment: \"x\\\ny\"\n" + blob + "\n" + rfc4716End + "\n",
		base64.StdEncoding.EncodeToString(der),
		string(der),
		"-----BEGIN PUBLIC KEY-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END PUBLIC KEY-----\n",
		dsaLine,
		"ssh-rsa",
		"",
		"\x30\x82\xff\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, material []byte) {
		got, err := Import(material)
		if err != nil {
			if !errors.Is(err, ErrInvalidKeyFormat) {
				t.Fatalf("error %v does not wrap ErrInvalidKeyFormat", err)
			}
			return
		}
		if got.KeyType != RSA && got.KeyType != ED25519 {
			t.Fatalf("accepted key type %q", got.KeyType)
		}
		again, err := Import([]byte(got.PublicKey))
		if err != nil || *again != *got {
			t.Fatalf("re-import of %q = %+v, %v; want %+v", got.PublicKey, again, err, got)
		}
	})
}

// importedDER is the DER SubjectPublicKeyInfo of an RSA authorized_keys line.
func importedDER(line string) ([]byte, error) {
	key, err := parseAuthorizedKey(line)
	if err != nil {
		return nil, err
	}
	return x509.MarshalPKIXPublicKey(key.(ssh.CryptoPublicKey).CryptoPublicKey())
}
