// Package tlsmux lets the local AWS serve HTTPS and plain HTTP on one port:
// it makes a certificate authority at start, signs a server certificate
// for the loopback names with it, and tells each connection apart by its
// first byte. Requests over TLS are what the aws:SecureTransport condition
// key calls secure, so a policy that denies plain HTTP is evaluated as on
// AWS for the callers that use TLS (the functions, producers) and refuses
// those that do not.
package tlsmux

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// Authority is the local AWS's certificate authority and the server
// certificate it signed.
type Authority struct {
	// CertPEM is the authority's certificate, PEM-encoded: what a client
	// trusts (AWS_CA_BUNDLE for the SDKs, custom_ca_bundle for the provider).
	CertPEM []byte
	server  tls.Certificate
}

// validity of the certificates: made at every start, so short.
const validity = 30 * 24 * time.Hour

// NewAuthority makes a certificate authority and a server certificate for
// hosts (IP addresses or DNS names) signed by it.
func NewAuthority(hosts ...string) (*Authority, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make the CA key: %w", err)
	}
	ca := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "tracking-pipeline local AWS CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("make the CA certificate: %w", err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make the server key: %w", err)
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "local AWS"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			leaf.IPAddresses = append(leaf.IPAddresses, ip)
		} else if h != "" {
			leaf.DNSNames = append(leaf.DNSNames, h)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("make the server certificate: %w", err)
	}
	return &Authority{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		server:  tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey},
	}, nil
}

// WriteBundle writes the authority's certificate to path for clients.
func (a *Authority) WriteBundle(path string) error {
	if err := os.WriteFile(path, a.CertPEM, 0o600); err != nil {
		return fmt.Errorf("write the CA bundle: %w", err)
	}
	return nil
}

// CertPool is a pool that trusts the authority, for Go clients.
func (a *Authority) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(a.CertPEM)
	return pool
}

// serverConfig is the TLS configuration of the server side: HTTP/1.1
// only, as the front server serves it.
func (a *Authority) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{a.server}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62)) // crypto/rand never fails on Linux
	return n
}
