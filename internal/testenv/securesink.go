package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SecureSink configures a Sink that offers TLS and AUTH.
type SecureSink struct {
	// TLS, if set, is offered with STARTTLS (or from the first byte with Implicit).
	TLS      *tls.Config
	Implicit bool
	// Users, if set, offers AUTH PLAIN (after TLS, or also without with PlainAuth) and
	// refuses MAIL with 530 5.7.0 until the client authenticated: user name -> password.
	// A wrong password is answered 535 5.7.8.
	Users     map[string]string
	PlainAuth bool
}

// StartSecureSink starts a Sink with TLS and AUTH as opts says; see StartSink.
func StartSecureSink(t testing.TB, opts SecureSink) *Sink {
	t.Helper()
	if opts.Implicit && opts.TLS == nil {
		t.Fatal("testenv: an implicit TLS sink needs a TLS config")
	}
	return startSink(t, opts)
}

// Cert is a self-signed certificate made for a test.
type Cert struct {
	Server *tls.Config    // serves the certificate
	Pool   *x509.CertPool // trusts it
	File   string         // the certificate in PEM, in a temporary folder
	Key    string         // its private key in PEM, beside it
}

// SelfSigned makes a self-signed certificate for the given DNS names and for 127.0.0.1,
// valid for a day around now.
func SelfSigned(t testing.TB, names ...string) Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cn := "127.0.0.1"
	if len(names) > 0 {
		cn = names[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-12 * time.Hour),
		NotAfter:     time.Now().Add(12 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(filepath.Dir(file), "key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return Cert{
		Server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}},
		Pool:   pool, File: file, Key: keyFile,
	}
}

func isTLS(c *smtp.Conn) bool {
	_, ok := c.TLSConnectionState()
	return ok
}

var errBadCredentials = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}

// AuthMechanisms offers PLAIN when the Sink has users.
func (ss *sinkSession) AuthMechanisms() []string {
	if ss.sink.users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks a user's password.
func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	if ss.sink.users == nil || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if want, ok := ss.sink.users[user]; !ok || want != pass || (identity != "" && identity != user) {
			return errBadCredentials
		}
		ss.user = user
		return nil
	}), nil
}
