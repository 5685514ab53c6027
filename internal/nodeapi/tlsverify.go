package nodeapi

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// verifyServer checks the server's chain ends at a CA that pin accepts and
// that the leaf is a server certificate. The host name is not checked: the
// CA is Kumo's own and signs only Kumo servers (ServerAuth) and nodes
// (ClientAuth), so a node's certificate cannot pose as the server.
func verifyServer(cs tls.ConnectionState, roots func(chain []*x509.Certificate) (*x509.CertPool, error)) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("server sent no certificate")
	}
	pool, err := roots(cs.PeerCertificates)
	if err != nil {
		return err
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err = cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return fmt.Errorf("verify server certificate: %w", err)
	}
	return nil
}

// pinnedRoots trusts the one certificate in the chain whose hash is pin.
func pinnedRoots(pin string) func([]*x509.Certificate) (*x509.CertPool, error) {
	return func(chain []*x509.Certificate) (*x509.CertPool, error) {
		for _, c := range chain {
			if CAHash(c) == pin && c.IsCA {
				pool := x509.NewCertPool()
				pool.AddCert(c)
				return pool, nil
			}
		}
		return nil, fmt.Errorf("the server's CA does not match the join token's hash %s…", pin[:12])
	}
}

func fixedRoots(ca *x509.Certificate) func([]*x509.Certificate) (*x509.CertPool, error) {
	return func([]*x509.Certificate) (*x509.CertPool, error) {
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		return pool, nil
	}
}

// bootstrapTLS is the client config for Join: no client certificate, the
// server trusted only through the token's CA hash.
func bootstrapTLS(pin string) *tls.Config {
	roots := pinnedRoots(pin)
	return &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true, //nolint:gosec // verified by VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error { return verifyServer(cs, roots) }}
}

// clientTLS is the mutual-TLS client config once the node has its certificate.
func clientTLS(cert tls.Certificate, ca *x509.Certificate) *tls.Config {
	roots := fixedRoots(ca)
	return &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true, //nolint:gosec // verified by VerifyConnection
		Certificates:     []tls.Certificate{cert},
		VerifyConnection: func(cs tls.ConnectionState) error { return verifyServer(cs, roots) }}
}
