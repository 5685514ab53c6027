package nodeapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Files a node keeps in its data dir.
const (
	NodeKeyFile  = "node.key"
	NodeCertFile = "node.crt"
	CACertFile   = "ca.crt"
)

// identity is a node's stored certificate, key and CA.
type identity struct {
	cert   tls.Certificate
	leaf   *x509.Certificate
	ca     *x509.Certificate
	nodeID string
}

// loadIdentity reads the stored identity; ok is false when none is stored.
func loadIdentity(dir string) (identity, bool, error) {
	keyPEM, err := os.ReadFile(filepath.Join(dir, NodeKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return identity{}, false, nil
	}
	if err != nil {
		return identity{}, false, fmt.Errorf("read node key: %w", err)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, NodeCertFile))
	if errors.Is(err, fs.ErrNotExist) {
		return identity{}, false, nil
	}
	if err != nil {
		return identity{}, false, fmt.Errorf("read node certificate: %w", err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return identity{}, false, fmt.Errorf("read CA certificate: %w", err)
	}
	id, err := parseIdentity(keyPEM, certPEM, caPEM)
	return id, err == nil, err
}

func parseIdentity(keyPEM, certPEM, caPEM []byte) (identity, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return identity{}, fmt.Errorf("node certificate and key: %w", err)
	}
	ca, err := ParseCertificatePEM(caPEM)
	if err != nil {
		return identity{}, fmt.Errorf("CA certificate: %w", err)
	}
	return identity{cert: cert, leaf: cert.Leaf, ca: ca, nodeID: cert.Leaf.Subject.CommonName}, nil
}

// saveIdentity writes the key (0600) and certificates, each atomically.
func saveIdentity(dir string, keyPEM, certPEM, caPEM []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("node data dir: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{{CACertFile, caPEM, 0o644}, {NodeKeyFile, keyPEM, 0o600}, {NodeCertFile, certPEM, 0o644}} {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	return nil
}

// newKeyAndCSR makes a P-256 key and a CSR naming the node.
func newKeyAndCSR(name string) (keyPEM, csrPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate node key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode node key: %w", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		return nil, nil, fmt.Errorf("make certificate request: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), nil
}

// ParseCertificatePEM decodes the first CERTIFICATE block.
func ParseCertificatePEM(b []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("no PEM certificate found")
		}
		if blk.Type == "CERTIFICATE" {
			return x509.ParseCertificate(blk.Bytes)
		}
	}
}
