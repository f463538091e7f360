// Package smtpout is rcptguard's one SMTP client: the re-injection of released mail, the
// notices and the relay's upstream all send through it.
//
// A Destination says where and how: the address, the name given in EHLO, the TLS mode
// (none, opportunistic or required STARTTLS, or implicit TLS from the first byte) and
// the AUTH credentials. Dial opens a connection that runs whole transactions (MAIL, RCPT
// with a result per recipient, DATA, RSET to run another); Send is a one-shot delivery.
// Every error is an *Error whose Class (Classify) says what the caller may do: try
// again later, give up, or not know whether the message went out.
//
// Two rules are kept here and nowhere else: with TLS required, a server that offers no
// STARTTLS or fails the handshake gets nothing in plain text (a temporary failure); and a
// password is never sent in plain text, except to a loopback address with TLS mode none
// (AuthAllowed).
//
// Load turns a configured destination (config.Destination) into a Destination, reading
// its password file and CA file; nothing else here reads files or the configuration.
package smtpout

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// TLSMode says how a connection is protected.
type TLSMode string

// The TLS modes.
const (
	// TLSNone speaks plain SMTP, even when the server offers STARTTLS.
	TLSNone TLSMode = "none"
	// TLSOpportunistic uses STARTTLS when the server offers it and plain SMTP when it does
	// not. A certificate that cannot be verified is a (temporary) failure, never a reason
	// to go on in plain text.
	TLSOpportunistic TLSMode = "opportunistic"
	// TLSRequired needs STARTTLS and a verified certificate: a server that does not offer
	// it gets nothing, and the failure is temporary.
	TLSRequired TLSMode = "required"
	// TLSImplicit speaks TLS from the first byte (submissions on port 465).
	TLSImplicit TLSMode = "implicit"
)

// DefaultTimeout bounds the dial, each command and each write when
// Destination.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// Destination is an SMTP server to send to and how to talk to it.
type Destination struct {
	Address  string  // host:port
	Hostname string  // the name given in EHLO; "localhost" if empty
	TLS      TLSMode // "" is TLSNone
	// ServerName is the name the server's certificate must carry; "" is the host of
	// Address. RootCAs are the authorities trusted to sign it; nil: the system's.
	ServerName string
	RootCAs    *x509.CertPool
	// Username and Password, when Username is set, authenticate with AUTH PLAIN (or
	// LOGIN when the server offers only that) after TLS; see AuthAllowed.
	Username, Password string
	// Timeout bounds the dial, the TLS handshake, each command's reply and each write;
	// DefaultTimeout if zero.
	Timeout time.Duration
	// Dial, if set, opens the TCP connection instead of a net.Dialer (the relay keeps
	// track of its connections to close them at shutdown).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Check reports what is wrong with d, or nil.
func (d Destination) Check() error {
	host, port, err := net.SplitHostPort(d.Address)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil || host == "" {
		return fmt.Errorf("smtpout: address %q: want host:port", d.Address)
	}
	switch d.TLS {
	case "", TLSNone, TLSOpportunistic, TLSRequired, TLSImplicit:
	default:
		return fmt.Errorf("smtpout: TLS mode %q: want none, opportunistic, required or implicit", d.TLS)
	}
	if d.Username == "" && d.Password != "" {
		return errors.New("smtpout: a password without a user name")
	}
	return nil
}

func (d Destination) mode() TLSMode {
	if d.TLS == "" {
		return TLSNone
	}
	return d.TLS
}

func (d Destination) timeout() time.Duration {
	if d.Timeout <= 0 {
		return DefaultTimeout
	}
	return d.Timeout
}

func (d Destination) hostname() string {
	if d.Hostname == "" {
		return "localhost"
	}
	return d.Hostname
}

func (d Destination) tlsConfig() *tls.Config {
	name := d.ServerName
	if name == "" {
		name, _, _ = net.SplitHostPort(d.Address)
	}
	return &tls.Config{ServerName: name, RootCAs: d.RootCAs, MinVersion: tls.VersionTLS12}
}

// AuthAllowed is the rule for sending a password: over TLS, or in plain text only to a
// loopback address (127.0.0.0/8, ::1) with TLS mode none, where the password never leaves
// the machine. A connection that should have been encrypted (opportunistic, required)
// and is not never gets the password, even on loopback.
func AuthAllowed(mode TLSMode, overTLS bool, remote net.Addr) bool {
	if overTLS {
		return true
	}
	if mode != "" && mode != TLSNone {
		return false
	}
	ta, ok := remote.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
